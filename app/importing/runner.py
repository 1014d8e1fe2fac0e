"""The import itself, chunk by chunk: normalise the cells, drop in-file duplicates (the first wins), look up
existing keys in one query per chunk, then insert (ON CONFLICT DO NOTHING: the unique index decides between
two imports racing for a number) or overwrite within the importer's scope and edit right.

Each chunk is one transaction together with the job's counters: a worker killed mid-chunk leaves the
previous chunks and their counts, never half a chunk. Every data row ends in exactly one of imported /
overwritten / skipped / failed; skipped and failed rows go to the error workbook.
"""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Any, Optional

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app import fieldperms, scopes, sqlite_stats
from app.extensions import db
from app.importing import files, mapping, workbooks
from app.importing.writing import RecordWriter
from app.importing.columns import template_columns
from app.importing.values import CellError, convert
from custom_fields.models import VALUE_MODELS, not_binned
from models.crm import Customer
from models.jobs import ImportJob
from models.mixins import utcnow
from models.org import Employee

BINNED = "binned"  # _existing(): the key is held by a record in the recycle bin only

class Row:
    __slots__ = ("number", "cells", "values", "custom", "key", "parent")

    def __init__(self, number, cells):
        self.number, self.cells = number, cells
        self.values: dict[str, Any] = {}
        self.custom: dict[int, Any] = {}
        self.key = None
        self.parent = None


class Importer(RecordWriter):
    def __init__(self, job: ImportJob, spec, user: Employee):
        self.job, self.spec, self.user = job, spec, user
        self.model = spec.model
        self.table = spec.model.__table__
        self.importer = spec.importer
        self.key = spec.importer.key
        self.chunk_size = int(current_app.config.get("IMPORT_CHUNK_ROWS", 5000))
        self.columns = template_columns(spec, user)
        # overwriting changes an existing record: only the fields the importer may edit (a read-only or masked
        # one is theirs to fill in on a new record only, as in the add form)
        access = fieldperms.field_access(user, spec.module)
        editable = set(fieldperms.writable_columns(spec.module, [c.name for c in self.columns], access))
        self.locked = {c.name for c in self.columns if c.name not in editable}
        self.key_column = next(c for c in self.columns if c.name == self.key)
        self.owner = db.session.get(Employee, job.owner_id) if job.owner_id else None
        pairs = current_app.appbuilder.sm.permission_pairs(user)
        self.may_edit = ("can_edit", spec.module) in pairs
        user_scopes = scopes.user_scopes(user)
        self.all_owners = scopes.ALL in user_scopes
        self.owners = set() if self.all_owners else scopes.owner_ids(user, user_scopes)
        self.pool_visible = ("can_view", "pool") in pairs
        relationships = self.model.__mapper__.relationships
        self.attr = {c.name: (next(iter(relationships[c.name].local_columns)).key if c.name in relationships
                              else c.name) for c in self.columns if c.kind not in ("custom", "customer")}
        self.memos = [{} if c.kind in ("choice", "bool") or (c.kind == "custom" and c.definition.type in (
            "select", "multiselect", "boolean")) else None for c in self.columns]
        self.lengths = {c.key: c.type.length for c in self.table.columns if isinstance(c.type, String)}
        self.counts = {"imported": 0, "overwritten": 0, "skipped": 0, "failed": 0}
        self.done = 0
        self.errors = None
        self.retrying = False

    # ---------------------------------------------------------------- reading

    def _rows(self):
        iterator = files.read_rows(self.job.file_path, self.job.file_format, self.job.total or 0)
        header = [files.header_text(c) for c in next(iterator, [])]
        while header and not header[-1]:
            header.pop()
        index = mapping.resolve(header, self.columns, self.job.mapping_dict)
        positions = [(i, column) for i, column in index.items()]
        order = {column.name: n for n, column in enumerate(self.columns)}
        number = 1
        for raw in iterator:
            number += 1
            if files.is_blank(raw):
                continue
            cells = [None] * len(self.columns)
            for i, column in positions:
                cells[order[column.name]] = raw[i] if i < len(raw) else None
            yield Row(number, cells)

    # ---------------------------------------------------------------- one row's cells

    def _convert(self, index, column, value):
        """convert(), remembered per column for the few distinct cells of option and yes/no columns."""
        memo = self.memos[index]
        if memo is None:
            return convert(column, value, self.lengths.get(column.name))
        try:
            found = memo.get(value)
        except TypeError:
            found = None
        if found is None:
            try:
                found = (True, convert(column, value, self.lengths.get(column.name)))
            except CellError as error:
                found = (False, error.message)
            if len(memo) < 10_000:
                memo[value] = found
        if not found[0]:
            raise CellError(found[1])
        return found[1]

    def _parse(self, row: Row) -> Optional[str]:
        for index, (column, value) in enumerate(zip(self.columns, row.cells)):
            if value is None or (value.__class__ is str and not value.strip()):
                if column.required:
                    return _l("%(field)s cannot be empty", field=column.header)
                continue
            try:
                converted = self._convert(index, column, value)
            except CellError as error:
                return error.message
            if column.kind == "custom":
                row.custom[column.definition.id] = converted
            elif column.kind == "choice":
                row.values[self.attr[column.name]] = converted
            elif column.kind == "customer":
                row.parent = converted
            else:
                row.values[column.name] = converted
        row.key = row.values.get(self.key)
        return None

    # ---------------------------------------------------------------- the chunk

    def run(self) -> None:
        import gc

        # a bulk load allocates millions of small objects that die young: the cyclic collector's full passes
        # over them cost more than they free (reference counting frees the rows chunk by chunk)
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._run()
        finally:
            if collecting:
                gc.enable()

    def _run(self) -> None:
        spooled = []
        seen: dict[Any, int] = {}
        self.errors = workbooks.ErrorWorkbook(self.job, self.columns)
        try:
            for row in self._rows():
                spooled.append(row)
                if len(spooled) >= self.chunk_size:
                    self._chunk(spooled, seen)
                    spooled = []
            if spooled:
                self._chunk(spooled, seen)
        finally:
            self.errors.close()

    def _chunk(self, rows: list[Row], seen: dict) -> None:
        for attempt in range(3):
            self.retrying = attempt > 0  # a retry takes the ON CONFLICT path everywhere
            try:
                self._chunk_once(rows, seen)
                return
            except (IntegrityError, OperationalError):
                # a concurrent import took a unique value between the lookup and the write: look again
                db.session.rollback()
                if attempt == 2:
                    raise
                time.sleep(0.2 * (attempt + 1))

    def _chunk_once(self, rows: list[Row], seen_before: dict) -> None:
        job = self.job
        now = utcnow()
        # a write first: on SQLite the chunk then holds the write lock from its first read on
        db.session.execute(update(ImportJob).where(ImportJob.id == job.id).values(heartbeat_at=now))
        # this chunk's new keys apart from the file's earlier ones: merged only once the chunk commits (a retried
        # chunk starts clean), and never a copy of the whole file's keys per chunk (1,000,000 rows: 200 copies)
        seen: dict = {}
        failed, skipped, fresh, existing_rows = [], [], [], []
        for row in rows:
            reason = self._parse(row)
            if reason is not None:
                failed.append((row, reason))
                continue
            first = seen.get(row.key) or seen_before.get(row.key)
            if first is not None:
                skipped.append((row, _l("%(field)s repeats row %(row)d; skipped", field=self.key_column.bare,
                                        row=first)))
                continue
            seen[row.key] = row.number
            fresh.append(row)
        if any(c.kind == "customer" for c in self.columns):
            fresh = self._resolve_parents(fresh, failed)
        fresh = self._check_unique_custom(fresh, failed)
        found = self._existing([r.key for r in fresh])
        new_rows = []
        for row in fresh:
            match = found.get(row.key)
            if match is None:
                new_rows.append(row)
            elif match == BINNED:
                failed.append((row, _l("%(field)s %(value)s is in the recycle bin: restore it there, or wait until "
                                       "it is removed.", field=self.key_column.bare, value=row.key)))
            elif job.duplicate != "overwrite":
                skipped.append((row, _l("%(field)s is a duplicate; skipped", field=self.key_column.bare)))
            else:
                refusal = self._overwrite_refusal(match)
                if refusal is not None:
                    failed.append((row, refusal))
                else:
                    existing_rows.append((row, match))
        imported = overwritten = 0
        if not job.dry_run:
            lost = self._insert(new_rows, now)
            for row in lost:
                skipped.append((row, _l("%(field)s is a duplicate; skipped", field=self.key_column.bare)))
            imported = len(new_rows) - len(lost)
            overwritten = self._overwrite(existing_rows, now)
        else:
            imported, overwritten = len(new_rows), len(existing_rows)
        counts = {"imported": imported, "overwritten": overwritten, "skipped": len(skipped), "failed": len(failed)}
        assert sum(counts.values()) == len(rows), (counts, len(rows))
        values = {name: getattr(ImportJob, name) + n for name, n in counts.items()}
        db.session.execute(update(ImportJob).where(ImportJob.id == job.id).values(
            done=ImportJob.done + len(rows), heartbeat_at=utcnow(), **values))
        db.session.commit()
        seen_before.update(seen)
        self.done += len(rows)
        for name, n in counts.items():
            self.counts[name] += n
        self.errors.add(sorted(failed + skipped, key=lambda item: item[0].number))

    # ---------------------------------------------------------------- lookups

    def _existing(self, keys: list) -> dict:
        """{key: (id, owner_id)} of the records already holding one of the keys (the pool's too). A key held
        only by a record in the recycle bin: {key: BINNED} (the row is refused: "在回收站中")."""
        result = {}
        key_col = self.table.c[self.key]
        owner_col = self.table.c.owner_id if "owner_id" in self.table.c else None
        binned = self.table.c.deleted_at.isnot(None) if "deleted_at" in self.table.c else None
        for start in range(0, len(keys), 900):
            part = keys[start:start + 900]
            query = select(self.table.c.id, key_col, owner_col if owner_col is not None else self.table.c.id)
            if binned is not None:  # each on its partial index (live: the unique one; binned: its own)
                query = query.where(~binned)
            for pk, key, owner in db.session.execute(query.where(key_col.in_(part))):
                result.setdefault(key, (pk, owner if owner_col is not None else None))
            if binned is not None:
                for key in db.session.scalars(select(key_col).where(key_col.in_(part), binned)):
                    result.setdefault(key, BINNED)
        return result

    def _overwrite_refusal(self, match):
        if not self.may_edit:
            return _l("No right to overwrite: you may not edit %(records)s", records=self.spec.label)
        if "owner_id" not in self.table.c:
            return None
        owner_id = match[1]
        if owner_id is None:
            return None if self.pool_visible else _l(
                "No right to overwrite: this record is not in your data scope")
        if self.all_owners or owner_id in self.owners:
            return None
        return _l("No right to overwrite: this record is not in your data scope")

    def _resolve_parents(self, rows: list[Row], failed: list) -> list[Row]:
        """The customer named by each row (its mobile or its company name), within the importer's reach, matched
        only on the fields the importer may search (a hidden or masked one matches nothing, as in a picker)."""
        from app.phone import normalise_optional_mobile
        from app.errors import CrmError

        names = {r.parent for r in rows if r.parent}
        view = fieldperms.FieldView(self.user, "customer")
        mobiles = {}
        for name in names if view.searchable("mobile") else ():
            try:
                mobile = normalise_optional_mobile(name)
            except CrmError:
                mobile = None
            if mobile:
                mobiles[name] = mobile
        reach = scopes.reachable(Customer, self.user)
        found_mobile, found_name = {}, defaultdict(list)
        columns = (Customer.id, Customer.mobile, Customer.company_name, Customer.owner_id, Customer.department_id)
        mobile_list = list(set(mobiles.values()))
        for start in range(0, len(mobile_list), 900):
            for row in db.session.execute(select(*columns).where(Customer.mobile.in_(mobile_list[start:start + 900]),
                                                                   reach)):
                found_mobile[row.mobile] = row
        name_list = [n for n in names if n not in mobiles] if view.searchable("company_name") else []
        for start in range(0, len(name_list), 900):
            for row in db.session.execute(select(*columns).where(
                    Customer.company_name.in_(name_list[start:start + 900]), reach)):
                found_name[row.company_name].append(row)
        kept = []
        label = next(c.bare for c in self.columns if c.kind == "customer")
        for row in rows:
            match = found_mobile.get(mobiles.get(row.parent)) if row.parent in mobiles else None
            if match is None and row.parent not in mobiles:
                candidates = found_name.get(row.parent, [])
                if len(candidates) > 1:
                    failed.append((row, _l("%(field)s is ambiguous: %(value)s (use the mobile number)",
                                           field=label, value=row.parent)))
                    continue
                match = candidates[0] if candidates else None
            if match is None:
                failed.append((row, _l("%(field)s does not exist: %(value)s", field=label, value=row.parent)))
                continue
            row.values["customer_id"] = match.id
            row.parent = match
            kept.append(row)
        return kept

    def _check_unique_custom(self, rows: list[Row], failed: list) -> list[Row]:
        unique = [c.definition for c in self.columns if c.kind == "custom" and c.definition.unique]
        if not unique or not self.spec.custom_fields:
            return rows
        model = VALUE_MODELS[self.spec.custom_fields]
        bad = {}
        for definition in unique:
            kind = definition.field_type
            wanted = {kind.stored(r.custom[definition.id]): r for r in rows if r.custom.get(definition.id) is not None}
            column = getattr(model, kind.column)
            taken = set()
            values = list(wanted)
            for start in range(0, len(values), 900):
                taken.update(db.session.scalars(select(column).where(
                    model.field_id == definition.id, column.in_(values[start:start + 900]),
                    not_binned(self.spec.custom_fields, model.record_id))))
            counted = {}
            for row in rows:
                value = row.custom.get(definition.id)
                if value is None:
                    continue
                stored = kind.stored(value)
                if stored in taken or stored in counted:
                    bad.setdefault(row.number, _l("%(field)s %(value)s already exists.", field=definition.label,
                                                  value=kind.display(definition, value)))
                counted[stored] = True
        kept = []
        for row in rows:
            if row.number in bad:
                failed.append((row, bad[row.number]))
            else:
                kept.append(row)
        return kept

    # ---------------------------------------------------------------- writing


def _heartbeat(job_id: int):
    """Beat every IMPORT_HEARTBEAT_SECONDS from a side thread while the job runs (its own connection), so
    a long read or chunk never looks dead; a killed process stops beating and the sweep fails the job."""
    import threading

    stop = threading.Event()
    engine = db.engine
    interval = float(current_app.config.get("IMPORT_HEARTBEAT_SECONDS", 5))

    def beat():
        while not stop.wait(interval):
            try:
                with engine.begin() as connection:
                    connection.execute(update(ImportJob.__table__).where(ImportJob.__table__.c.id == job_id,
                                                                         ImportJob.__table__.c.status == "running")
                                       .values(heartbeat_at=utcnow()))
            except Exception:  # a busy database: the next beat will do
                pass

    threading.Thread(target=beat, name=f"import-{job_id}-heartbeat", daemon=True).start()
    return stop


def run_job(job_id: int) -> None:
    """Run one queued job to the end (in a thread or an RQ worker, inside an app context)."""
    from views.modules import SPECS

    job = db.session.get(ImportJob, job_id)
    if job is None or job.status != "queued":
        return
    claimed = db.session.execute(update(ImportJob).where(ImportJob.id == job_id, ImportJob.status == "queued")
                                 .values(status="running", started_at=utcnow(), heartbeat_at=utcnow()))
    db.session.commit()
    if claimed.rowcount != 1:
        return
    db.session.refresh(job)
    spec = next(s for s in SPECS if s.key == job.module)
    user = db.session.get(Employee, job.user_id)
    started = time.perf_counter()
    stop = _heartbeat(job_id)
    with force_locale(current_app.config.get("IMPORT_LOCALE", "zh")):
        try:
            importer = Importer(job, spec, user)
            importer.run()
        except Exception as error:
            stop.set()  # the job is marked failed with the reason; nothing half-written
            db.session.rollback()
            current_app.logger.exception("import job %s failed", job_id)
            message = str(error.message) if hasattr(error, "message") else str(_l(
                "The import stopped because of an internal error; the rows already counted were saved."))
            db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
                status="failed", finished_at=utcnow(), message=message))
            db.session.commit()
            return
        stop.set()
        db.session.execute(update(ImportJob).where(ImportJob.id == job_id).values(
            status="done", finished_at=utcnow(), total=importer.done, error_path=importer.errors.saved_path,
            message=str(_l("Finished in %(s).1f s.", s=time.perf_counter() - started))))
        db.session.commit()
        try:  # SQLite: a large import can double a table; its planner statistics follow (app/sqlite_stats.py)
            sqlite_stats.refresh_engine(db.engine)
        except Exception:
            current_app.logger.exception("refreshing SQLite statistics after import job %s failed", job_id)
