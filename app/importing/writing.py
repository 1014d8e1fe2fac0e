"""Writing an import's chunk: new records (SQLite: the driver's executemany under the chunk's write lock;
PostgreSQL: COPY into a temporary stage, then one INSERT … ON CONFLICT DO NOTHING RETURNING), their custom values
(executemany / COPY), and overwrites of existing records (non-empty cells only; the owner stays)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import bindparam, delete, func, select, update

from app import fieldperms
from app.extensions import db
from custom_fields.models import VALUE_MODELS

VALUE_COLUMNS = ("value_text", "value_long", "value_number", "value_date", "value_datetime", "value_bool",
                 "option_id", "unique_value")


class RecordWriter:
    """Mixed into app.importing.runner.Importer (self.table, self.key, self.columns, self.spec, self.job, ...)."""

    def _owner_values(self, row) -> dict:
        if "owner_id" not in self.table.c:
            return {}
        if getattr(self.model, "owner_follows", None) and row.parent is not None:
            return {"owner_id": row.parent.owner_id, "department_id": row.parent.department_id}
        owner = self.owner
        return {"owner_id": owner.id if owner else None, "department_id": owner.department_id if owner else None}

    def _insert(self, rows: list, now: dt.datetime) -> list[Row]:
        """Insert the new records; returns the rows another import won (their key was taken meanwhile)."""
        if not rows:
            return []
        rows = sorted(rows, key=lambda r: str(r.key))  # one lock order for every import: no deadlock
        base = {"import_job_id": self.job.id}
        c = self.table.c
        if "created_at" in c:
            base.update(created_at=now, updated_at=now)
        if "created_by_id" in c:
            base.update(created_by_id=self.user.id, updated_by_id=self.user.id)
        plain = set(self.attr.values())
        if any(col.kind == "customer" for col in self.columns):
            plain.add("customer_id")
        for name, column in c.items():
            if name not in base and name not in plain and not column.primary_key and column.default is not None \
                    and not column.nullable and column.default.is_scalar:
                base[name] = column.default.arg
        params = []
        for row in rows:
            item = dict(base)
            values = row.values
            for name in plain:
                item[name] = values.get(name)
            item.update(self._owner_values(row))
            if "owned_since" in c:
                item["owned_since"] = now if item.get("owner_id") else None
            params.append(item)
        if db.engine.dialect.name == "sqlite" and not self.retrying:
            ids = self._insert_sqlite(rows, params)
        elif db.engine.dialect.name == "postgresql":
            ids = self._insert_postgresql(params)
        else:
            statement = self._insert_statement()
            returned = db.session.execute(statement.returning(c.id, c[self.key]), params).all()
            ids = {key: pk for pk, key in returned}
        lost = [row for row in rows if row.key not in ids]
        won = [row for row in rows if row.key in ids]
        if self.spec.custom_fields:
            self._write_values([(ids[r.key], r.custom) for r in won if r.custom] +
                               self._defaults([(ids[r.key], r) for r in won]))
        if self.importer.after_insert is not None:
            self.importer.after_insert([dict(id=ids[r.key], owner_id=p["owner_id"] if "owner_id" in p else None)
                                        for r, p in zip(rows, params) if r.key in ids], self.user, now)
        return lost

    def _insert_sqlite(self, rows: list, params: list[dict]) -> dict:
        """SQLite has one writer: the chunk took the write lock with its first statement, so its lookup is
        the truth until it commits and the rows go in through the driver's executemany with ids given here."""
        first = (db.session.scalar(select(func.max(self.table.c.id))) or 0) + 1
        names = list(params[0]) + ["id"]
        dialect = db.engine.dialect
        processors = [(i, self.table.c[n].type._cached_bind_processor(dialect)) for i, n in enumerate(names)]
        processors = [(i, p) for i, p in processors if p is not None]
        tuples, ids = [], {}
        for offset, (row, item) in enumerate(zip(rows, params)):
            values = list(item.values())
            values.append(first + offset)
            for i, processor in processors:
                if values[i] is not None:
                    values[i] = processor(values[i])
            tuples.append(values)
            ids[row.key] = first + offset
        cursor = db.session.connection().connection.dbapi_connection.cursor()
        try:
            cursor.executemany(f"INSERT INTO {self.table.name} ({', '.join(names)}) VALUES "
                               f"({', '.join('?' * len(names))})", tuples)
        finally:
            cursor.close()
        return ids

    def _insert_postgresql(self, params: list[dict]) -> dict:
        """COPY into a temporary stage, then one INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING: the unique
        index decides between racing imports, in key order (one lock order: no deadlock)."""
        names = list(params[0])
        table = self.table.name
        stage = f"import_stage_{table}"
        unique = self._key_unique()
        raw = db.session.connection().connection.dbapi_connection
        columns = ", ".join(names)
        with raw.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table} INCLUDING DEFAULTS) "
                           "ON COMMIT DELETE ROWS")
            cursor.execute(f"TRUNCATE {stage}")
            with cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
                for item in params:
                    copy.write_row(tuple(item.values()))
            # the unique index is partial (records not in the recycle bin): the conflict target names its predicate
            live = " WHERE deleted_at IS NULL" if "deleted_at" in self.table.c else ""
            conflict = f" ON CONFLICT ({self.key}){live} DO NOTHING" if unique else ""
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ORDER BY {self.key}"
                           f"{conflict} RETURNING id, {self.key}")
            return {key: pk for pk, key in cursor.fetchall()}

    def _key_unique(self) -> bool:
        return bool(self.table.c[self.key].unique) or any(
            idx.unique and [col.name for col in idx.columns] == [self.key] for idx in self.table.indexes)

    def _defaults(self, pairs) -> list:
        """Custom fields left empty get their default, as on the form."""
        defaults = {c.definition.id: c.definition.default_value() for c in self.columns
                    if c.kind == "custom" and c.definition.default not in (None, "")}
        defaults = {k: v for k, v in defaults.items() if v is not None}
        if not defaults:
            return []
        result = []
        for pk, row in pairs:
            missing = {k: v for k, v in defaults.items() if k not in row.custom}
            if missing:
                result.append((pk, missing))
        return result

    def _insert_statement(self):
        dialect = db.engine.dialect.name
        unique = any(col.unique for col in [self.table.c[self.key]]) or any(
            idx.unique and [col.name for col in idx.columns] == [self.key] for idx in self.table.indexes)
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(self.table)
        live = self.table.c.deleted_at.is_(None) if "deleted_at" in self.table.c else None
        return statement.on_conflict_do_nothing(index_elements=[self.key], index_where=live) if unique else statement

    def _value_plan(self):
        """Per custom field: where its stored value goes in a value row (record_id, field_id, *VALUE_COLUMNS)."""
        if getattr(self, "_plan", None) is None:
            names = ("record_id", "field_id") + VALUE_COLUMNS
            self._plan = {}
            for column in self.columns:
                if column.kind == "custom":
                    definition = column.definition
                    kind = definition.field_type
                    self._plan[definition.id] = (names.index(kind.column), kind, definition.unique)
        return self._plan

    def _value_rows(self, pairs) -> list[list]:
        plan = self._value_plan()
        unique_index = len(VALUE_COLUMNS) + 1
        rows = []
        blank = [None] * (len(VALUE_COLUMNS) + 2)
        for record_id, custom in pairs:
            for field_id, value in custom.items():
                if value is None:
                    continue
                index, kind, unique = plan[field_id]
                item = blank[:]
                item[0], item[1] = record_id, field_id
                item[index] = kind.stored(value)
                if unique:
                    item[unique_index] = kind.unique_value(value)
                rows.append(item)
        return rows

    def _write_values(self, pairs) -> None:
        rows = self._value_rows(pairs)
        if not rows:
            return
        model = VALUE_MODELS[self.spec.custom_fields]
        names = ("record_id", "field_id") + VALUE_COLUMNS
        raw = db.session.connection().connection.dbapi_connection
        if db.engine.dialect.name == "postgresql":
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {model.__tablename__} ({', '.join(names)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return
        # SQLite: the driver's executemany, each value bound as SQLAlchemy binds it (dates as text, ...)
        dialect = db.engine.dialect
        table = model.__table__
        processors = [(i, table.c[n].type._cached_bind_processor(dialect)) for i, n in enumerate(names)]
        processors = [(i, p) for i, p in processors if p is not None]
        for row in rows:
            for i, processor in processors:
                if row[i] is not None:
                    row[i] = processor(row[i])
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES "
                               f"({', '.join('?' * len(names))})", rows)
        finally:
            cursor.close()

    def _overwrite(self, pairs, now: dt.datetime) -> int:
        """Non-empty cells replace the record's values; empty cells keep them; the owner stays. Fields the
        importer may not edit (self.locked: read-only or masked for their role) keep theirs too."""
        if not pairs:
            return 0
        c = self.table.c
        locked = getattr(self, "locked", set())
        locked_attrs = {k for k in self.table.c.keys() if fieldperms.field_of(self.spec.module, k) in locked}
        locked_custom = {col.definition.id for col in self.columns if col.kind == "custom" and col.name in locked}
        groups = defaultdict(list)
        for row, (pk, _owner) in pairs:
            values = {k: v for k, v in row.values.items() if v is not None and k != self.key and k not in locked_attrs}
            if "updated_at" in c:
                values["updated_at"] = now
            if "updated_by_id" in c:
                values["updated_by_id"] = self.user.id
            values["_pk"] = pk
            groups[tuple(sorted(values))].append(values)
        for names, params in groups.items():
            statement = update(self.table).where(c.id == bindparam("_pk")).values(
                {n: bindparam(n) for n in names if n != "_pk"})
            if len(names) > 1:
                db.session.execute(statement, params)
        if self.spec.custom_fields:
            model = VALUE_MODELS[self.spec.custom_fields]
            by_field = defaultdict(list)
            for row, (pk, _owner) in pairs:
                for field_id in row.custom:
                    if field_id not in locked_custom:
                        by_field[field_id].append(pk)
            for field_id, ids in by_field.items():
                for start in range(0, len(ids), 900):
                    db.session.execute(delete(model).where(model.field_id == field_id,
                                                           model.record_id.in_(ids[start:start + 900])))
            self._write_values([(pk, {k: v for k, v in row.custom.items() if k not in locked_custom})
                                for row, (pk, _owner) in pairs if row.custom])
        return len(pairs)


def bulk_insert(table, rows: list[dict]) -> None:
    """Rows into a table in the current transaction: COPY on PostgreSQL, Core executemany elsewhere."""
    if not rows:
        return
    if db.engine.dialect.name != "postgresql":
        db.session.execute(table.insert(), rows)
        return
    names = list(rows[0])
    raw = db.session.connection().connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(tuple(row[n] for n in names))
