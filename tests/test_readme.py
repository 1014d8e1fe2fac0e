"""A newcomer's README: self-contained (no ../shared), every demo login with its role, PORT=, and a second
`crm init` that prints no "Refused to delete permission view" warnings."""
import logging
import re
from pathlib import Path

from app.demo import EMPLOYEES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_is_self_contained():
    assert "../shared" not in README and "shared/research" not in README
    assert (ROOT / "docs" / "ARCHITECTURE.md").exists()
    assert "docs/ARCHITECTURE.md" in README
    assert "make run PORT=8081" in README


def test_readme_lists_every_demo_login_with_its_role():
    rows = {m.group(1): m.group(2) for m in
            re.finditer(r"^\| `(\d{11})` \| [^|]+ \| [^|]+ \| ([^|]+) \|", README, re.M)}
    assert {k: v.strip() for k, v in rows.items()} == {mobile: role for _name, mobile, _dept, role, *_rest in EMPLOYEES}
    assert "| `admin` |" in README and "demo1234" in README


def test_a_second_init_refuses_nothing(app, caplog):
    from app.cli import sync_security

    with app.app_context(), caplog.at_level(logging.WARNING):
        sync_security()
        sync_security()
    assert not [r for r in caplog.records if "Refused to delete" in r.getMessage()]
    with app.app_context():
        sm = app.appbuilder.sm
        assert sm.find_permission_view_menu("can_view", "customer") is not None
        assert sm.find_permission_view_menu("menu_access", "customer") is None
