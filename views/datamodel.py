"""FAB's SQLAInterface with a capped count: a list of a million customers counts at most
COUNT_CAP + 1 rows, so the count stops early instead of visiting every match (on these machines the
count was 80-90 % of a list request, shared/research/perf.md §5). Screens show "10,000+"; the API
answers `count` = COUNT_CAP + 1 with `count_capped: true`."""
from __future__ import annotations

from flask_appbuilder.models.sqla.interface import SQLAInterface
from sqlalchemy import func, literal

COUNT_CAP = 10_000


class CrmInterface(SQLAInterface):
    count_cap = COUNT_CAP

    def query_count(self, query, filters=None, select_columns=None) -> int:
        inner = self._apply_inner_all(query, filters, select_columns=select_columns, aliases_mapping={})
        limited = inner.with_entities(literal(1)).order_by(None).limit(self.count_cap + 1).subquery()
        return self.session.query(func.count()).select_from(limited).scalar()
