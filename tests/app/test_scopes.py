"""数据权限: the five data scopes on a 3-level manager chain and a 3-level department tree, checked on the
SQL predicate of app/scopes.py and on what the customer API lists.

    总部 (boss, hq_peer)                         boss
    ├── 销售部 (mid, sales_peer)                 ├── mid
    │   ├── 一组 (junior, team1_peer)            │   ├── junior
    │   └── 二组 (team2_member)                  │   └── team2_member
    └── 财务部 (finance)                          └── finance
"""
import pytest
from sqlalchemy import select

from app import organisation as org
from app import roles as role_service
from app import scopes
from app.extensions import db
from models.crm import Customer
from models.org import Employee
from tests import factories as f
from tests.conftest import bearer
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")

EVERYONE = {"boss", "hq_peer", "mid", "sales_peer", "junior", "team1_peer", "team2_member", "finance"}


@pytest.fixture
def tree(app):
    """The organisation above, one customer per employee, one in the pool, and a role per scope."""
    with app.app_context():
        hq = f.department("总部")
        sales = f.department("销售部", hq)
        team1, team2 = f.department("一组", sales), f.department("二组", sales)
        finance_dept = f.department("财务部", hq)
        people = {}
        people["boss"] = f.employee("老板", hq)
        people["hq_peer"] = f.employee("总部同事", hq)
        people["mid"] = f.employee("经理", sales, manager=people["boss"])
        people["sales_peer"] = f.employee("销售部同事", sales)
        people["junior"] = f.employee("组员", team1, manager=people["mid"])
        people["team1_peer"] = f.employee("一组同事", team1)
        people["team2_member"] = f.employee("二组组员", team2, manager=people["mid"])
        people["finance"] = f.employee("会计", finance_dept, manager=people["boss"])
        for key, person in people.items():
            f.customer(person, f"{key}的客户")
        f.customer(None, "公海客户")
        roles = {}
        for scope in ("self", "self_and_subordinates", "department", "department_tree", "all"):
            role = role_service.create_role(f"范围-{scope}")
            role_service.write_matrix(role.id, {"modules": {"customer": ["view"]}, "data_scope": scope})
            roles[scope] = role.id
        ids = {key: p.id for key, p in people.items()}
        logins = {key: p.username for key, p in people.items()}
        db.session.remove()
    return {"ids": ids, "logins": logins, "roles": roles}


def _names(tree, owner_ids):
    by_id = {v: k for k, v in tree["ids"].items()}
    return {by_id[i] for i in owner_ids}


def _visible_in_sql(tree, viewer):
    user = db.session.get(Employee, tree["ids"][viewer])
    # as the generated screens ask: owned records in scope (pool customers are the pool's business)
    owners = db.session.scalars(select(Customer.owner_id).where(Customer.owner_id.isnot(None),
                                                                scopes.visible_to(Customer, user)))
    return _names(tree, owners)


def _visible_in_api(client, tree, viewer):
    headers = bearer(client, tree["logins"][viewer], f.PASSWORD)
    body = client.get("/api/v1/customer/?q=(page_size:100)", headers=headers).get_json()
    return _names(tree, [row["owner_id"] for row in body["result"]])


def _check(client, tree, scope, expected):
    for viewer, visible in expected.items():
        with client.application.app_context():
            org.update_employee(tree["ids"][viewer], role_ids=[tree["roles"][scope]])
            assert _visible_in_sql(tree, viewer) == visible, (scope, viewer)
        assert _visible_in_api(client, tree, viewer) == visible, (scope, viewer)


def test_scope_self_sees_own_records_only(client, tree):
    _check(client, tree, "self", {"boss": {"boss"}, "mid": {"mid"}, "junior": {"junior"}})


def test_scope_self_and_subordinates_follows_the_manager_chain_at_any_depth(client, tree):
    _check(client, tree, "self_and_subordinates", {
        "boss": {"boss", "mid", "junior", "team2_member", "finance"},
        "mid": {"mid", "junior", "team2_member"},
        "junior": {"junior"},
    })


def test_scope_department_is_the_owners_of_the_same_department(client, tree):
    _check(client, tree, "department", {
        "boss": {"boss", "hq_peer"},
        "mid": {"mid", "sales_peer"},
        "junior": {"junior", "team1_peer"},
    })


def test_scope_department_tree_is_the_departments_whole_subtree(client, tree):
    _check(client, tree, "department_tree", {
        "boss": EVERYONE,
        "mid": {"mid", "sales_peer", "junior", "team1_peer", "team2_member"},
        "junior": {"junior", "team1_peer"},
    })


def test_scope_all_sees_every_owned_record(client, tree):
    _check(client, tree, "all", {"boss": EVERYONE, "mid": EVERYONE, "junior": EVERYONE})


def test_two_roles_see_the_union_of_their_scopes(client, tree):
    with client.application.app_context():
        call_center = role_service.create_role("外呼-本部门", "call_center")
        call_center_id = call_center.id
        role_service.write_matrix(call_center_id, {"data_scope": "department"})
        org.update_employee(tree["ids"]["mid"], role_ids=[tree["roles"]["self"], call_center_id])
    assert _visible_in_api(client, tree, "mid") == {"mid", "sales_peer"}
    with client.application.app_context():
        org.update_employee(tree["ids"]["mid"], role_ids=[tree["roles"]["self_and_subordinates"], call_center_id])
    assert _visible_in_api(client, tree, "mid") == {"mid", "sales_peer", "junior", "team2_member"}


def test_a_new_owner_must_be_within_the_scope(ctx, tree):
    org.update_employee(tree["ids"]["mid"], role_ids=[tree["roles"]["department_tree"]])
    mid = db.session.get(Employee, tree["ids"]["mid"])
    assert scopes.can_own(mid, tree["ids"]["team2_member"])
    assert not scopes.can_own(mid, tree["ids"]["finance"])
    assert not scopes.can_own(mid, None)


def test_a_department_path_prefix_is_not_a_sibling_with_a_longer_id(ctx):
    """/1/2/ must not take in /1/23/: the path ends with a slash, so a prefix is a whole node."""
    from models.org import Department

    top = f.department("根")
    first = f.department("甲", top)
    # a sibling whose id starts with the first one's digits (far above any id the sequence hands out)
    lookalike_id = int(f"{first.id}000007")
    db.session.add(Department(id=lookalike_id, name="乙", parent_id=top.id, path=f"{top.path}{lookalike_id}/"))
    db.session.commit()
    assert f"/{lookalike_id}/".startswith(f"/{first.id}")
    viewer = f.employee("甲部门员工", first)
    stranger = f.employee("乙部门员工", db.session.get(Department, lookalike_id))
    role = role_service.create_role("范围-树")
    role_service.write_matrix(role.id, {"data_scope": "department_tree"})
    org.update_employee(viewer.id, role_ids=[role.id])
    viewer = db.session.get(Employee, viewer.id)
    assert scopes.can_own(viewer, viewer.id)
    assert not scopes.can_own(viewer, stranger.id)
