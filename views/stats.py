"""数据中心: one screen per 数据分析 right plus 排行榜, and the API `GET /api/v1/stats/<page>` they share.

The screens are generated from app.stats.PAGES (one BaseView class per page, so each has its menu entry,
its permission "stats:<page>" and its URL); the figures come from app.stats.statistics() only.
"""
from __future__ import annotations

from flask import Response, abort, g, jsonify, request
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, protect, safe
from flask_babel import gettext as _
from sqlalchemy import or_, select

from app import scopes, stats
from app.errors import CrmError
from app.extensions import db
from app.inputs import is_id
from app.stats_export import workbook
from app.stats_periods import PERIODS, resolve_window
from models.call import DISPOSITIONS
from models.org import AccountState, Department, Employee
from views import lookups

STATS_METHODS = {"list": "view", "export": "view", "get_page": "view", "lookup": "view"}


def _arguments(args) -> dict:
    return {"period": args.get("period") or None, "start": args.get("from") or None, "end": args.get("to") or None,
            "department": args.get("department") or None, "employee": args.get("employee") or None}


def compute(page, args) -> tuple[dict, object]:
    """The page's figures for the query-string filters (CrmError on bad input or a stranger's id)."""
    arguments = _arguments(args)
    window = resolve_window(arguments["period"], arguments["start"], arguments["end"])
    return stats.statistics(page, g.user, window, arguments["department"], arguments["employee"],
                            rank_by=args.get("by") or None), window


def _employees(user):
    """The employees the filter offers: those the viewer's scope reaches, except the resigned."""
    return lookups.employee_choices(user).where(Employee.state != AccountState.RESIGNED.value)


def _pickers(user, chosen) -> tuple[list, list]:
    """The departments the filter offers (those the viewer's scope reaches: a few dozen) and the chosen employee:
    the employee filter is typed (/stats/<page>/lookup/employee/?q=), the company's staff is no list."""
    user_scopes = scopes.user_scopes(user)
    people = []
    if is_id(chosen):
        people = [(e.id, e.first_name) for e in db.session.scalars(_employees(user).where(Employee.id == int(chosen)))]
    departments = select(Department.id, Department.name, Department.path).order_by(Department.path)
    if scopes.ALL not in user_scopes:
        reach = [Department.id.in_(select(Employee.department_id).where(scopes.owner_predicate(Employee.id, user)))]
        own = db.session.get(Department, user.department_id) if user.department_id else None
        if own is not None and scopes.DEPARTMENT_TREE in user_scopes:
            reach.append(Department.path.startswith(own.path))
        departments = departments.where(or_(*reach))
    nodes = [(pk, "\u3000" * max(path.count("/") - 2, 0) + name) for pk, name, path in db.session.execute(departments)]
    return nodes, people


def make_page_view(page):
    class StatsPageView(BaseView):
        route_base = f"/stats/{page.key}"
        class_permission_name = f"stats:{page.key}"
        method_permission_name = STATS_METHODS
        base_permissions = ["can_view"]
        default_view = "list"

        def create_blueprint(self, appbuilder, endpoint=None, static_folder=None):
            blueprint = super().create_blueprint(appbuilder, endpoint, static_folder)
            for status in (403, 404):  # refusals as a page of the app, in the user's language
                blueprint.register_error_handler(status, self.refusal)
            return blueprint

        def refusal(self, error):
            message = (_("You do not have permission to see this statistic.") if error.code == 403
                       else _("This department or employee does not exist, or is outside your data permission."))
            return self.render_template("stats/refusal.html", message=message, title=str(page.label)), error.code

        @expose("/")
        @has_access
        def list(self):
            try:
                result, window = compute(page, request.args)
                error = None
            except CrmError as refusal:
                if refusal.status == 404:
                    abort(404)
                result, window, error = None, resolve_window(), str(refusal.message)
            departments, people = _pickers(g.user, request.args.get("employee"))
            labels = {k: str(v) for k, v in stats.METRICS[page.subject].items()}
            return self.render_template(
                "stats/page.html", page=page, result=result, error=error, window=window, periods=PERIODS,
                args=_arguments(request.args), departments=departments, people=people, labels=labels,
                dispositions={code: str(label) for code, label in DISPOSITIONS},
                pages=stats.visible_pages(g.user), title=str(page.label))

        @expose("/lookup/employee/")
        @has_access
        def lookup(self):
            """The employee filter, typed: matches of `q` by name or login among `_employees`."""
            return jsonify(results=lookups.matching_employees(_employees(g.user), request.args.get("q", "")))

        @expose("/export")
        @has_access
        def export(self):
            try:
                result, _window = compute(page, request.args)
            except CrmError as refusal:
                abort(refusal.status)
            body = workbook(page, result, {code: str(label) for code, label in DISPOSITIONS})
            name = f"{page.key}_{result['from']}_{result['to']}.xlsx"
            return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

    StatsPageView.__name__ = StatsPageView.__qualname__ = "Stats" + "".join(
        part.title() for part in page.key.split("_")) + "View"
    return StatsPageView


PAGE_VIEWS = [(page, make_page_view(page)) for page in stats.PAGES.values()]


class StatsApi(BaseApi):
    """The data center's figures, as the screens show them."""

    resource_name = "stats"
    class_permission_name = "stats:any"
    method_permission_name = STATS_METHODS
    base_permissions = ["can_view"]
    allow_browser_login = True
    openapi_spec_tag = "Data center"

    @expose("/<page>", methods=["GET"])
    @protect()
    @safe
    def get_page(self, page):
        """One data-center page's figures within the caller's data scope.
        ---
        get:
          description: >-
            Days are local days of the TIMEZONE setting (Asia/Shanghai). Pages: employee_customers,
            department_customers, employee_followups, department_followups, employee_calls, department_calls,
            employee_sales, department_sales, ranking. Each opens with its 数据分析 right (the ranking with the
            call or sales statistics by employee, and shows only the figures of the rights held). Department
            rows group by each owner's current department. A department or employee outside the caller's
            data scope is 404.
          parameters:
          - {in: path, name: page, required: true, schema: {type: string, enum: [employee_customers,
             department_customers, employee_followups, department_followups, employee_calls, department_calls,
             employee_sales, department_sales, ranking]}}
          - {in: query, name: from, schema: {type: string, format: date}, description: first day (YYYY-MM-DD)}
          - {in: query, name: to, schema: {type: string, format: date}, description: last day, included}
          - {in: query, name: period, schema: {type: string, enum: [today, week, month, last_month, custom]},
             description: instead of from/to (default this month)}
          - {in: query, name: department, schema: {type: integer}, description: a department and its subtree}
          - {in: query, name: employee, schema: {type: integer}}
          - {in: query, name: by, schema: {type: string, enum: [dialed, connected, talk_seconds, contract_amount]},
             description: the ranking's order (default the first figure the caller may see)}
          responses:
            200:
              description: >-
                {"series": [{"date", metric...} per day], "table": [one row per employee or department],
                "total": {the sum row}, "columns": [metric keys], "breakdowns": {...}}. Customer rows carry
                new_customers, claimed, released; follow-up rows followups, customers_followed, way_call,
                way_visit, way_wechat, way_other, overdue; call rows dialed, connected, connect_rate,
                talk_seconds, talk_minutes, average_talk_seconds; sales rows opportunities,
                opportunity_amount, contracts, contract_amount, invoices, invoice_amount.
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      series: {type: array, items: {type: object}}
                      table: {type: array, items: {type: object}}
                      total: {type: object}
                      columns: {type: array, items: {type: string}}
                      breakdowns: {type: object}
                      from: {type: string, format: date}
                      to: {type: string, format: date}
            400: {$ref: '#/components/responses/400'}
            401: {$ref: '#/components/responses/401'}
            403: {$ref: '#/components/responses/403'}
            404: {$ref: '#/components/responses/404'}
        """
        found = stats.PAGES.get(page)
        if found is None:
            return self.response(404, message=_("This statistic does not exist."))
        if not stats.may_open(found, stats.rights_of(g.user)):
            return self.response(403, message=_("You do not have permission to do this."))
        try:
            result, _window = compute(found, request.args)
        except CrmError as refusal:
            body = {"message": str(refusal.message)}
            if refusal.field:
                body["field"] = refusal.field
            return self.response(refusal.status, **body)
        return self.response(200, **result)

    def response_401(self):
        return self.response(401, message=_("Please log in first."))

    def response_403(self):
        return self.response(403, message=_("You do not have permission to do this."))


def register(add_view, appbuilder) -> None:
    for page, view in PAGE_VIEWS:
        add_view(view, page.key, page.label, page.icon)
    appbuilder.add_api(StatsApi)

