"""The generator: a wrong declaration fails at boot, and a declaration becomes screens, API and permissions."""
import pytest

from models.crm import Customer
from views.module_spec import ActionSpec, ModuleSpec, validate_spec
from views.modules import SPECS


def test_a_column_that_does_not_exist_fails_at_boot():
    spec = ModuleSpec(key="customer", model=Customer, label="x", list_columns=("company_name", "no_such_column"))
    with pytest.raises(RuntimeError, match="no_such_column"):
        validate_spec(spec)


def test_an_action_outside_the_module_matrix_fails_at_boot():
    spec = ModuleSpec(key="customer", model=Customer, label="x", list_columns=("company_name",),
                      actions=(ActionSpec("fly", "fly", "fly", lambda *a: None),))
    with pytest.raises(RuntimeError, match="fly"):
        validate_spec(spec)


def test_the_declared_modules_are_valid():
    for spec in SPECS:
        validate_spec(spec)


def test_every_module_gets_screen_api_and_permission_rows(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    sm = app.appbuilder.sm
    with app.app_context():
        for spec in SPECS:
            assert f"/{spec.key}/list/" in rules
            assert f"/api/v1/{spec.key}/" in rules
            assert sm.find_permission_view_menu("can_view", spec.module) is not None
