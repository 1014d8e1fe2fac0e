"""The one place that registers screens and APIs (like Superset's init_views)."""
from flask_babel import lazy_gettext as _l

# the manual's top menus
CRM, CALL_CENTER, DATA_CENTER, SETTINGS = "CRM", "CallCenter", "DataCenter", "Settings"
MENU_LABELS = {CRM: _l("CRM"), CALL_CENTER: _l("Call center"), DATA_CENTER: _l("Data center"),
               SETTINGS: _l("Settings")}


def register(appbuilder) -> None:
    from views.org import DepartmentApi, DepartmentView, EmployeeApi, EmployeeView

    def add(view, name, label, category, icon):
        appbuilder.add_view(view, name, label=label, icon=icon, category=category,
                            category_label=MENU_LABELS[category])

    add(EmployeeView, "Employees", _l("Organisation"), SETTINGS, "fa-users")
    add(DepartmentView, "Departments", _l("Departments"), SETTINGS, "fa-sitemap")
    appbuilder.add_api(DepartmentApi)
    appbuilder.add_api(EmployeeApi)
