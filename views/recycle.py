"""设置 → 回收站 (the recycle bin) and its API: the binned records of the modules the employee may delete, within
their data scope; 恢复 (the module's delete right) and 彻底删除 (administrators). The service is app/recycle.py.

    GET  /recycle_bin/list/?module=customer&page=0     the screen
    POST /recycle_bin/restore/<module>/<pk>            恢复 (CSRF form)
    POST /recycle_bin/purge/<module>/<pk>              彻底删除 (CSRF form, administrators)
    GET  /api/v1/recycle_bin/?module=&page=&page_size=  the list as JSON
    POST /api/v1/<module>/<pk>/restore                  404 not in the bin or out of scope, 403 no delete right, 409

A restored record whose owner is no longer active does not go back to that account: a customer goes to the public
pool, what hangs on a customer to its owner (app/customers.adopt_restored); the answer says so.
"""
from __future__ import annotations

from typing import Optional

from flask import abort, flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose, has_access
from flask_appbuilder.api import BaseApi, expose as api_expose, protect, safe
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, func, literal, select, union_all

from app import fieldperms, recycle, scopes
from app.errors import CrmError
from app.extensions import db
from app.permissions import ADMIN_ROLE
from app.security import RECYCLE_BIN_RESOURCE
from models.crm import Customer
from models.org import Employee

PAGE_SIZE = 50
METHODS = {"list": "view", "restore": "view", "purge": "view", "get_list": "view", "restore_api": "view"}


def _pairs(user) -> set:
    from flask import current_app

    return current_app.appbuilder.sm.permission_pairs(user)


def may_delete(user, module: str) -> bool:
    pairs = _pairs(user)
    return ("can_delete", module) in pairs or (module == "customer" and ("can_delete", "pool") in pairs)


def is_admin(user) -> bool:
    return any(role.name == ADMIN_ROLE for role in user.roles)


def modules_of(user) -> list[str]:
    """The bin's modules for this employee: those they may delete records of."""
    return [module for module in recycle.MODELS if may_delete(user, module)]


def reach(model, user):
    """The binned records of `model` the employee may see and restore: their data scope, as the module's list.
    Customers without an owner (deleted from the pool) for those who may delete in the pool."""
    if not hasattr(model, "owner_id"):
        return None
    owned = and_(model.owner_id.isnot(None), scopes.visible_to(model, user))
    if model is Customer:
        if ("can_delete", "pool") in _pairs(user):
            return owned | model.owner_id.is_(None)
        return owned
    from views.generator import SPEC_BY_MODEL

    spec = SPEC_BY_MODEL.get(model)
    return scopes.reachable(model, user) if spec is not None and spec.pool_records else owned


def _roots(module: str, user):
    model = recycle.MODELS[module]
    table = model.__table__
    query = select(literal(module).label("module"), model.id.label("id"), model.deleted_at.label("deleted_at")) \
        .where(model.deleted_at.isnot(None), table.c.deleted_batch.startswith(f"{module}."))
    predicate = reach(model, user)
    return query.where(predicate) if predicate is not None else query


def entries(user, module: Optional[str] = None, page: int = 0, page_size: int = PAGE_SIZE) -> tuple[int, list]:
    """(count, one page of the bin, newest first) as dicts."""
    modules = modules_of(user)
    if module:
        modules = [m for m in modules if m == module]
    if not modules:
        return 0, []
    union = union_all(*[_roots(m, user) for m in modules]).subquery()
    count = db.session.scalar(select(func.count()).select_from(union).execution_options(**recycle.OPTIONS))
    rows = db.session.execute(select(union.c.module, union.c.id).order_by(union.c.deleted_at.desc(),
                                                                          union.c.id.desc())
                              .limit(page_size).offset(page * page_size).execution_options(**recycle.OPTIONS)).all()
    wanted: dict[str, list[int]] = {}
    for row in rows:
        wanted.setdefault(row.module, []).append(row.id)
    objects, sizes, views = {}, {}, {}
    for name, ids in wanted.items():
        model = recycle.MODELS[name]
        for obj in db.session.scalars(select(model).where(model.id.in_(ids)).execution_options(**recycle.OPTIONS)):
            objects[(name, obj.id)] = obj
        batches = [objects[(name, i)].deleted_batch for i in ids if (name, i) in objects]
        for other in recycle.MODELS.values():
            table = other.__table__
            for batch, n in db.session.execute(select(table.c.deleted_batch, func.count()).where(
                    table.c.deleted_batch.in_(batches)).group_by(table.c.deleted_batch)):
                sizes[batch] = sizes.get(batch, 0) + n
    deleters = {e.id: e.first_name for e in db.session.scalars(select(Employee).where(Employee.id.in_(
        {o.deleted_by_id for o in objects.values() if o.deleted_by_id})))}
    result = []
    for row in rows:
        obj = objects.get((row.module, row.id))
        if obj is None:
            continue
        model = type(obj)
        if model not in views:  # a customer binned from the pool is named as 公海 would name it
            views[model] = fieldperms.FieldView(user, fieldperms.module_of_model(model))
        result.append({
            "module": row.module, "module_label": str(recycle_module_label(row.module)), "id": obj.id,
            "name": views[model].label(obj), "deleted_at": obj.deleted_at,
            "deleted_by": deleters.get(obj.deleted_by_id, ""), "days_left": recycle.days_left(obj.deleted_at),
            "records": max(0, sizes.get(obj.deleted_batch, 1) - 1),
        })
    return count, result


def recycle_module_label(module: str):
    """The module's name as its menu entry says it (客户, 联系人, ...)."""
    from views.generator import SPEC_BY_MODEL

    return SPEC_BY_MODEL[recycle.MODELS[module]].label


def restore(module: str, pk, user) -> tuple[dict, dict, str]:
    """The one restore of the screen and the API: 404 unknown module or not in the bin / out of scope, 403
    without the module's delete right, 409 conflicts (app/recycle.restore). Returns (the restored ids per
    module, those that changed owner because theirs is no longer active, what to tell the user of them)."""
    from app.inputs import parse_id

    model = recycle.MODELS.get(module)
    if model is None:
        raise CrmError(_l("This record is not in the recycle bin."), status=404)
    pk = parse_id(pk, "id", malformed_status=404)
    if not may_delete(user, module):
        raise CrmError(_l("You may not restore these records (it needs the right to delete them)."), status=403)
    records, moved = recycle.restore(model, pk, reach(model, user), user)
    return {recycle.MODULE_OF[m]: ids for m, ids in records.items()}, moved, owner_notice(moved)


def owner_notice(moved: dict) -> str:
    """What became of the restored records whose owner is no longer active (app/customers.adopt_restored)."""
    def count(kind, skip=()):
        return sum(len(ids) for module, ids in moved.get(kind, {}).items() if module not in skip)

    notes = []
    if moved.get("pool", {}).get("customer"):
        notes.append(_("Its owner is no longer active, so the customer went to the public pool."))
    if count("pool", skip=("customer",)):
        notes.append(_("%(n)d record(s) whose owner is no longer active went to the public pool with their "
                       "customer.", n=count("pool", skip=("customer",))))
    if count("customer_owner"):
        notes.append(_("%(n)d record(s) whose owner is no longer active now belong to the customer's owner.",
                       n=count("customer_owner")))
    if count("restorer"):
        notes.append(_("%(n)d record(s) whose owner is no longer active are now yours.", n=count("restorer")))
    return "".join(notes)


class ConfirmForm(FlaskForm):
    """Only the CSRF token: 恢复 and 彻底删除 are POSTs."""


class RecycleBinView(BaseView):
    route_base = "/recycle_bin"
    default_view = "list"
    class_permission_name = RECYCLE_BIN_RESOURCE
    method_permission_name = METHODS
    base_permissions = ["can_view"]

    @expose("/list/")
    @has_access
    def list(self):
        user = g.user
        module = request.args.get("module") or None
        if module is not None and module not in recycle.MODELS:
            abort(400)
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            abort(400)
        count, rows = entries(user, module, page)
        modules = [(m, recycle_module_label(m)) for m in modules_of(user)]
        return self.render_template("crm/recycle_bin.html", rows=rows, count=count, page=page, page_size=PAGE_SIZE,
                                    module=module, modules=modules, days=recycle.days(), admin=is_admin(user),
                                    form=ConfirmForm(), title=_("Recycle bin"))

    def _back(self):
        return redirect(url_for(".list", module=request.args.get("module_filter") or None))

    @expose("/restore/<module>/<pk>", methods=["POST"])
    @has_access
    def restore(self, module, pk):
        if not ConfirmForm().validate_on_submit():
            abort(400)
        try:
            _restored, _moved, notice = restore(module, pk, g.user)
        except CrmError as error:
            db.session.rollback()
            if error.status in (403, 404):
                abort(error.status)
            flash(str(error.message), "danger")
        else:
            flash(_("Restored."), "success")
            if notice:
                flash(notice, "warning")
        return self._back()

    @expose("/purge/<module>/<pk>", methods=["POST"])
    @has_access
    def purge(self, module, pk):
        if not ConfirmForm().validate_on_submit():
            abort(400)
        if not is_admin(g.user):
            abort(403)
        from app import audit
        from app.inputs import parse_id

        model = recycle.MODELS.get(module)
        obj = recycle.binned(model, parse_id(pk, "id", malformed_status=404)) if model is not None else None
        if obj is None or not recycle.is_root(obj):
            abort(404)
        audit.record("purge", module=module, record_ids=[obj.id], detail={"name": str(obj)[:200]})
        removed = recycle.purge_batches([obj.deleted_batch])
        db.session.commit()
        flash(_("Deleted for good (%(n)d record(s)).", n=removed), "success")
        return self._back()


class RecycleBinApi(BaseApi):
    resource_name = "recycle_bin"
    class_permission_name = RECYCLE_BIN_RESOURCE
    method_permission_name = METHODS
    base_permissions = ["can_view"]
    openapi_spec_tag = "Recycle bin"

    @api_expose("/", methods=["GET"])
    @protect()
    @safe
    def get_list(self):
        """The bin: `module` (optional), `page` (from 0), `page_size` (at most 100)."""
        module = request.args.get("module") or None
        if module is not None and module not in recycle.MODELS:
            return self.response_400(message=_("Unknown module: %(module)s", module=module))
        try:
            page = max(0, int(request.args.get("page", 0)))
            size = min(100, max(1, int(request.args.get("page_size", PAGE_SIZE))))
        except ValueError:
            return self.response_400(message=_("page and page_size must be whole numbers."))
        count, rows = entries(g.user, module, page, size)
        for row in rows:
            row["deleted_at"] = row["deleted_at"].isoformat(sep=" ", timespec="seconds")
        return self.response(200, count=count, days=recycle.days(), result=rows)


class RecycleRestoreApi(BaseApi):
    """POST /api/v1/<module>/<pk>/restore, beside each module's own API."""

    route_base = "/api/v1"
    class_permission_name = RECYCLE_BIN_RESOURCE
    method_permission_name = METHODS
    base_permissions = ["can_view"]
    openapi_spec_tag = "Recycle bin"

    @api_expose("/<module>/<pk>/restore", methods=["POST"])
    @protect()
    @safe
    def restore_api(self, module, pk):
        try:
            restored, moved, notice = restore(module, pk, g.user)
        except CrmError as error:
            db.session.rollback()
            return self.response(error.status, message=str(error.message))
        # owners: the restored records whose owner is no longer active, by where they went (pool, the
        # customer's owner, the restorer), each {module: [ids]}
        return self.response(200, message=_("Restored.") + notice, restored=restored, owners=moved)
