"""The one place that registers screens and APIs (like Superset's init_views)."""
from flask_babel import lazy_gettext as _l

# the manual's top menus
CRM, CALL_CENTER, DATA_CENTER, SETTINGS = "CRM", "CallCenter", "DataCenter", "Settings"
MENU_LABELS = {CRM: _l("CRM"), CALL_CENTER: _l("Call center"), DATA_CENTER: _l("Data center"),
               SETTINGS: _l("Settings")}


def register(appbuilder) -> None:
    from views import generator, generator_api
    from views.custom_fields import CustomFieldsView
    from views.custom_fields_api import CustomFieldApi
    from views.importing import ImportJobApi, ImportView
    from views.modules import SPECS
    from views.org import DepartmentApi, DepartmentView, EmployeeApi, EmployeeView
    from views.profile import MeApi
    from views.roles import RoleView
    from views.roles_api import RoleApi
    from views.settings import ChoiceView, PoolRulesView
    from views.templating import register_template_helpers

    def add(view, name, label, category, icon):
        appbuilder.add_view(view, name, label=label, icon=icon, category=category,
                            category_label=MENU_LABELS[category])

    # CRM modules: every class first, so the detail pages can show each other as tabs
    registry = {}
    for spec in SPECS:
        generator.SPEC_BY_MODEL.setdefault(spec.model, spec)
        generator.build_view(spec, registry)
    for spec in SPECS:
        registry[spec.key].related_views = [registry[key] for key in spec.related]
    for spec in SPECS:
        if spec.menu:
            add(registry[spec.key], spec.key, spec.label, spec.menu, spec.icon)
        else:
            appbuilder.add_view_no_menu(registry[spec.key])
        appbuilder.add_api(generator_api.build_api(spec))

    # 数据中心: one screen per 数据分析 right, and 排行榜
    from views import stats

    stats.register(lambda view, name, label, icon: add(view, name, label, DATA_CENTER, icon), appbuilder)

    from views.calls import DialView

    from views.mobile import MobileView

    appbuilder.add_view_no_menu(DialView)
    appbuilder.add_view_no_menu(MobileView)
    add(EmployeeView, "Employees", _l("Organisation"), SETTINGS, "fa-users")
    add(DepartmentView, "Departments", _l("Departments"), SETTINGS, "fa-sitemap")
    add(RoleView, "Roles", _l("Role permissions"), SETTINGS, "fa-key")
    add(ChoiceView, "Options", _l("Option lists"), SETTINGS, "fa-list")
    add(PoolRulesView, "PoolRules", _l("Public pool rules"), SETTINGS, "fa-life-ring")
    add(CustomFieldsView, "CustomFields", _l("Custom fields"), SETTINGS, "fa-sliders")
    from views.audit_log import AuditLogView

    add(AuditLogView, "AuditLog", _l("Audit log"), SETTINGS, "fa-history")
    from views.recycle import RecycleBinApi, RecycleBinView, RecycleRestoreApi

    add(RecycleBinView, "RecycleBin", _l("Recycle bin"), SETTINGS, "fa-recycle")
    appbuilder.add_api(RecycleBinApi)
    appbuilder.add_api(RecycleRestoreApi)
    appbuilder.add_api(DepartmentApi)
    appbuilder.add_api(EmployeeApi)
    appbuilder.add_api(CustomFieldApi)
    appbuilder.add_api(RoleApi)
    appbuilder.add_api(MeApi)
    from views.audit_api import AuditLogApi

    appbuilder.add_api(AuditLogApi)
    appbuilder.add_view_no_menu(ImportView)
    appbuilder.add_api(ImportJobApi)
    register_template_helpers(appbuilder)
