"""Substring search (the list's search box) served by an index instead of a scan of every row.

PostgreSQL: `ILIKE '%…%'` as before; the pg_trgm GIN indexes of migrations/versions/0012_speed.py serve
it (a trigram index answers LIKE/ILIKE by itself, then rechecks each candidate row).
SQLite: an FTS5 table per module table (`<table>_fts`, trigram tokenizer, external content kept in
sync by triggers) narrows the rows to the candidates; the LIKE still decides, so the results are
exactly the LIKE results (FTS5's case folding is wider than SQLite's ASCII-only LIKE: it only adds
candidates the LIKE then drops); a text found in more than DENSE rows is LIKE alone. Texts shorter than three characters (a trigram) and texts with LIKE's
wildcards (% and _) are plain LIKE on both databases.
"""
from __future__ import annotations

from sqlalchemy import and_, column, func, literal_column, or_, select, table

from app.extensions import db

# table -> the columns its FTS table (SQLite) and trigram indexes (PostgreSQL) cover: every keyword
# column of the generated modules (views/modules.py; tests/app/test_textsearch.py checks they agree).
# migrations/versions/0012_speed.py holds the same list, as a migration must not import the app.
INDEXED = {
    "customer": ("company_name", "contact_name", "mobile"),
    "contact": ("name", "mobile"),
    "opportunity": ("name",),
    "contract": ("number", "name"),
    "product": ("code", "name"),
    "followup": ("content",),
    "invoice": ("number",),
    "customer_group": ("name",),
    "seat": ("number", "name"),
}
MIN_LENGTH = 3  # one trigram
# SQLite: past this many FTS matches the text is common, and LIKE over the rows in the list's order finds
# a page (and the capped count) sooner than collecting every matching rowid first (measured at 200,000
# customers: '有限公司' in every name took 45 ms by LIKE, 216 ms through all 200,000 FTS matches)
DENSE = 20_000


def _indexable(table_name: str, columns, needle: str) -> bool:
    return (len(needle) >= MIN_LENGTH and not ("%" in needle or "_" in needle)
            and bool(columns) and set(columns) <= set(INDEXED.get(table_name, ())))


def fts_match(columns, needle: str) -> str:
    """An FTS5 query for `needle` as a substring of any of `columns` (a phrase, quotes doubled)."""
    return "{" + " ".join(columns) + "} : \"" + needle.replace('"', '""') + "\""


def substring_predicate(model, columns, needle: str):
    """Rows where any of `columns` contains `needle` (case-insensitive as ILIKE is on each database)."""
    like = or_(*[getattr(model, c).ilike(f"%{needle}%") for c in columns])
    name = model.__table__.name
    if db.session.get_bind().dialect.name != "sqlite" or not _indexable(name, columns, needle):
        return like
    fts = table(f"{name}_fts", column("rowid"))
    match = literal_column(f"{name}_fts").op("MATCH")(fts_match(columns, needle))
    probe = select(func.count()).select_from(select(fts.c.rowid).where(match).limit(DENSE + 1).subquery())
    if db.session.scalar(probe) > DENSE:
        return like
    return and_(model.id.in_(select(fts.c.rowid).where(match)), like)
