"""回收站: a deleted record goes to the bin with what hangs off it, is invisible everywhere else, and comes back
(screen with its CSRF token, API) with its custom values and children; refusals (scope, rights, a mobile
taken meanwhile) and the purge. SQLite and PostgreSQL alike."""
from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import prison
import pytest
from sqlalchemy import func, select, update

from app import recycle
from app.extensions import db
from custom_fields import service as cf_service
from custom_fields.models import VALUE_MODELS
from models.audit import AuditLog
from models.crm import Contact, Customer, FollowUp
from models.sales import Contract, Invoice, Opportunity, Product
from tests import factories as f
from tests.conftest import bearer, token_of, web_login
from tests.rolefixtures import restore_roles, two_with_every_right  # noqa: F401  (restore_roles: a fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")


@pytest.fixture
def people(app):
    with app.app_context():
        dept, alice, bob = two_with_every_right()
        seller = f.employee("小赵", dept, role="销售")  # no delete right
        field = cf_service.create_field("customer", {"label": "微信号", "type": "text", "unique": True})
        ids = {"alice": alice.id, "bob": bob.id, "alice_login": alice.username, "bob_login": bob.username,
               "seller": seller.id, "seller_login": seller.username, "field": field.key,
               "mine": f.family(alice, "甲", "13911110001"), "theirs": f.family(bob, "乙", "13911110002")}
        from custom_fields import values

        values.save_record("customer", ids["mine"]["customer"], {f"cf_{field.key}": "wx-jia"}, creating=False)
        db.session.commit()
        db.session.remove()
    return ids


def _binned(app, model, pk):
    with app.app_context():
        row = db.session.scalar(select(model).where(model.id == pk).execution_options(**recycle.OPTIONS))
        return None if row is None else row.deleted_at


def test_a_deleted_customer_and_what_hangs_off_it_are_invisible_everywhere(client, people, admin_headers):
    mine = people["mine"]
    app = client.application
    web = app.test_client()  # Alice on the screens; `client` calls the API as the administrator
    web_login(web, people["alice_login"], "secret12")
    assert web.post(f"/customer/delete/{mine['customer']}").status_code == 302
    for module, model in (("customer", Customer), ("contact", Contact), ("opportunity", Opportunity),
                          ("contract", Contract), ("followup", FollowUp), ("invoice", Invoice)):
        assert _binned(app, model, mine[module]) is not None, module
        # the screens: list, detail; the API: list, detail
        assert web.get(f"/{module}/show/{mine[module]}").status_code == 404, module
        assert client.get(f"/api/v1/{module}/{mine[module]}", headers=admin_headers).status_code == 404, module
        listed = client.get(f"/api/v1/{module}/", headers=admin_headers).get_json()
        assert mine[module] not in listed["ids"], module
        assert people["theirs"][module] in listed["ids"], module
        assert listed["count"] == 1, module
    page = web.get("/customer/list/").get_data(as_text=True)
    assert "甲公司" not in page
    # the search box by phone, pickers, export
    assert "甲公司" not in web.get("/customer/list/?_flt_0_company_name=13911110001").get_data(as_text=True)
    lookup = web.get("/contact/lookup/customer/?q=甲").get_json()
    assert lookup["results"] == []
    export = client.get("/api/v1/customer/export?format=xlsx", headers=admin_headers)
    sheet = openpyxl.load_workbook(io.BytesIO(export.data)).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row}
    assert "甲公司" not in cells and "乙公司" in cells
    # statistics: the admin's 员工客户统计 / 员工销售统计 count Bob's records only
    with app.app_context():
        from app import stats
        from app.stats_periods import local_today, resolve_window

        admin = f.admin()
        today = local_today()
        window = resolve_window(None, str(today - dt.timedelta(days=1)), str(today + dt.timedelta(days=1)))
        customers = stats.statistics(stats.PAGES["employee_customers"], admin, window)
        sales = stats.statistics(stats.PAGES["employee_sales"], admin, window)
        followups = stats.statistics(stats.PAGES["employee_followups"], admin, window)
        for result, key in ((customers, "new_customers"), (sales, "contracts"), (sales, "opportunities"),
                            (sales, "invoices"), (followups, "followups")):
            rows = {row["employee_id"]: row for row in result["table"]}
            assert rows[people["alice"]][key] == 0, key
            assert rows[people["bob"]][key] == 1, key
            assert result["total"][key] == 1, key
        db.session.remove()
    # the customer's mobile is free while it is in the bin
    created = client.post("/api/v1/customer/", json={"company_name": "新甲", "mobile": "13911110001"},
                          headers=admin_headers)
    assert created.status_code == 201, created.get_json()


def test_restore_through_the_screen_with_its_csrf_token_brings_back_children_and_custom_values(client, people):
    mine = people["mine"]
    app = client.application
    web_login(client, people["alice_login"], "secret12")
    assert client.post(f"/customer/delete/{mine['customer']}").status_code == 302
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/recycle_bin/list/").get_data(as_text=True)
        assert "回收站" in page and "甲公司" in page and "乙公司" not in page  # Bob's are out of Alice's scope
        assert "recycle-purge" not in page  # 彻底删除: administrators only
        url = f"/recycle_bin/restore/customer/{mine['customer']}"
        assert client.post(url).status_code == 400  # no CSRF token
        assert _binned(app, Customer, mine["customer"]) is not None
        token = token_of(client, "/recycle_bin/list/")
        response = client.post(url, data={"csrf_token": token}, follow_redirects=True)
        assert response.status_code == 200
        assert "已恢复" in response.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    for module, model in (("customer", Customer), ("contact", Contact), ("opportunity", Opportunity),
                          ("contract", Contract), ("followup", FollowUp), ("invoice", Invoice)):
        assert _binned(app, model, mine[module]) is None, module
        assert client.get(f"/{module}/show/{mine[module]}").status_code == 200, module
    with app.app_context():
        value = db.session.scalar(select(VALUE_MODELS["customer"]).where(
            VALUE_MODELS["customer"].record_id == mine["customer"]))
        assert value.value_text == "wx-jia" and value.unique_value == "wx-jia"
        actions = [a.action for a in db.session.scalars(select(AuditLog).where(AuditLog.module == "customer"))]
        assert "delete" in actions and "restore" in actions


def test_restore_by_the_api_and_its_refusals(client, people):
    mine, theirs = people["mine"], people["theirs"]
    alice = bearer(client, people["alice_login"], "secret12")
    bob = bearer(client, people["bob_login"], "secret12")
    seller = bearer(client, people["seller_login"], "secret12")
    assert client.delete(f"/api/v1/contract/{mine['contract']}", headers=alice).status_code == 200
    assert client.delete(f"/api/v1/customer/{theirs['customer']}", headers=bob).status_code == 200
    # the invoice went with its contract: restored through the contract only
    answer = client.post(f"/api/v1/invoice/{mine['invoice']}/restore", headers=alice)
    assert answer.status_code == 409 and "一起删除" in answer.get_json()["message"]
    listed = client.get("/api/v1/recycle_bin/", headers=alice).get_json()
    assert [(r["module"], r["id"], r["records"]) for r in listed["result"]] == [("contract", mine["contract"], 1)]
    assert listed["result"][0]["days_left"] == 30 and listed["days"] == 30
    assert client.get("/api/v1/recycle_bin/?module=customer", headers=alice).get_json()["result"] == []
    assert client.get("/api/v1/recycle_bin/?module=nope", headers=alice).status_code == 400
    # out of scope: 404; no delete right: 403; not in the bin: 404; unknown module: 404
    assert client.post(f"/api/v1/customer/{theirs['customer']}/restore", headers=alice).status_code == 404
    assert client.post(f"/api/v1/contract/{mine['contract']}/restore", headers=seller).status_code == 403
    assert client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=alice).status_code == 404
    assert client.post(f"/api/v1/nope/{mine['customer']}/restore", headers=alice).status_code == 404
    assert client.post("/api/v1/contract/abc/restore", headers=alice).status_code == 404
    answer = client.post(f"/api/v1/contract/{mine['contract']}/restore", headers=alice)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["restored"] == {"contract": [mine["contract"]], "invoice": [mine["invoice"]]}
    assert client.get(f"/api/v1/invoice/{mine['invoice']}", headers=alice).status_code == 200
    assert client.post(f"/api/v1/contract/{mine['contract']}/restore", headers=alice).status_code == 404
    # a contact deleted with Bob's customer: refused while the customer is in the bin... through the customer
    assert client.post(f"/api/v1/customer/{theirs['customer']}/restore", headers=bob).status_code == 200
    assert client.get(f"/api/v1/contact/{theirs['contact']}", headers=bob).status_code == 200


def test_a_child_cannot_come_back_while_its_customer_is_in_the_bin(client, people):
    mine = people["mine"]
    alice = bearer(client, people["alice_login"], "secret12")
    assert client.delete(f"/api/v1/contact/{mine['contact']}", headers=alice).status_code == 200
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=alice).status_code == 200
    answer = client.post(f"/api/v1/contact/{mine['contact']}/restore", headers=alice)
    assert answer.status_code == 409 and "回收站" in answer.get_json()["message"]
    assert client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=alice).status_code == 200
    # the contact was deleted on its own: it stays in the bin until restored itself
    assert client.get(f"/api/v1/contact/{mine['contact']}", headers=alice).status_code == 404
    assert client.post(f"/api/v1/contact/{mine['contact']}/restore", headers=alice).status_code == 200


def test_restoring_a_customer_whose_mobile_was_taken_meanwhile_is_refused_with_the_reason(client, people,
                                                                                          admin_headers):
    mine = people["mine"]
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=admin_headers).status_code == 200
    taken = client.post("/api/v1/customer/", json={"company_name": "后来者", "mobile": "13911110001",
                                                  f"cf_{people['field']}": "wx-jia"}, headers=admin_headers)
    assert taken.status_code == 201, taken.get_json()
    answer = client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=admin_headers)
    assert answer.status_code == 409
    assert "13911110001" in answer.get_json()["message"] and "无法恢复" in answer.get_json()["message"]
    assert _binned(client.application, Customer, mine["customer"]) is not None
    # the screen says it too, and the record stays in the bin
    web_login(client)
    response = client.post(f"/recycle_bin/restore/customer/{mine['customer']}", follow_redirects=True)
    assert "13911110001" in response.get_data(as_text=True)
    # once the newcomer's number changes, the custom value still blocks: refused with the field named
    other = taken.get_json()["id"]
    assert client.put(f"/api/v1/customer/{other}", json={"mobile": "13911119999"},
                      headers=admin_headers).status_code == 200
    answer = client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=admin_headers)
    assert answer.status_code == 409 and "微信号" in answer.get_json()["message"]
    assert _binned(client.application, Customer, mine["customer"]) is not None
    assert client.put(f"/api/v1/customer/{other}", json={f"cf_{people['field']}": "wx-other"},
                      headers=admin_headers).status_code == 200
    assert client.post(f"/api/v1/customer/{mine['customer']}/restore", headers=admin_headers).status_code == 200


def test_import_says_a_duplicate_is_in_the_recycle_bin(client, people, admin_headers):
    from tests.importing.helpers import CUSTOMER_HEADER, read_errors, run, xlsx

    mine = people["mine"]
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=admin_headers).status_code == 200
    header = CUSTOMER_HEADER + ["微信号"]
    job = run(client, xlsx([["重来公司", None, "13911110001"], ["新公司", None, "13911113333"]], header=header),
              admin_headers, duplicate="overwrite")
    assert job["imported"] == 1 and job["failed"] == 1, job
    text = " ".join(str(cell) for row in read_errors(client, job["id"], admin_headers) for cell in row if cell)
    assert "在回收站中" in text and "13911110001" in text


def test_administrators_purge_from_the_screen_and_the_command_purges_expired(client, people, admin_headers):
    mine, theirs = people["mine"], people["theirs"]
    app = client.application
    assert client.delete(f"/api/v1/customer/{mine['customer']}", headers=admin_headers).status_code == 200
    assert client.delete(f"/api/v1/product/{_product(app)}", headers=admin_headers).status_code == 200
    web_login(client, people["alice_login"], "secret12")
    assert client.post(f"/recycle_bin/purge/customer/{mine['customer']}").status_code == 403
    client.get("/logout/")
    web_login(client)
    page = client.get("/recycle_bin/list/").get_data(as_text=True)
    assert "recycle-purge" in page and "甲公司" in page and "P-1 样品" in page
    # the command leaves what is younger than RECYCLE_BIN_DAYS
    runner = app.test_cli_runner()
    assert "0 record(s)" in runner.invoke(args=["crm", "purge-deleted"]).output
    with app.app_context():
        for model in recycle.MODELS.values():
            db.session.execute(update(model.__table__).where(model.__table__.c.deleted_at.isnot(None)).values(
                deleted_at=recycle.utcnow() - dt.timedelta(days=31)))
        db.session.commit()
    result = runner.invoke(args=["crm", "purge-deleted"])
    assert "7 record(s)" in result.output, result.output  # the customer's six and the product
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(VALUE_MODELS["customer"])) == 0
        for module, model in recycle.MODELS.items():
            if module in mine:
                assert db.session.scalar(select(func.count()).select_from(model.__table__).where(
                    model.__table__.c.id == mine[module])) == 0
                assert db.session.get(model, theirs[module]) is not None
    assert client.post(f"/recycle_bin/purge/customer/{theirs['customer']}").status_code == 404  # not binned


def _product(app):
    with app.app_context():
        product = Product(code="P-1", name="样品")
        db.session.add(product)
        db.session.commit()
        return product.id


def test_the_bin_screen_needs_a_delete_right_and_shows_days_left(client, people):
    web_login(client, people["seller_login"], "secret12")
    assert client.get("/recycle_bin/list/").status_code in (302, 403)
    assert client.get("/api/v1/recycle_bin/", headers=bearer(client, people["seller_login"], "secret12")
                      ).status_code == 403
    client.get("/logout/")
    web_login(client, people["alice_login"], "secret12")
    assert client.post(f"/followup/delete/{people['mine']['followup']}").status_code == 302
    page = client.get("/recycle_bin/list/?module=followup").get_data(as_text=True)
    assert "甲跟进内容" in page and "30 天" in page and "小李" in page
    assert re.search(r"回收站", client.get("/customer/list/").get_data(as_text=True))  # the menu entry
    assert client.get("/recycle_bin/list/?module=nope").status_code == 400
    assert client.get(f"/api/v1/followup/?q={prison.dumps({'filters': []})}",
                      headers=bearer(client, people["alice_login"], "secret12")).get_json()["count"] == 0


def test_dialing_the_pool_the_phone_site_and_groups_do_not_see_a_binned_customer(client, people, admin_headers):
    from app import groups, telephony
    from app.errors import NotFound
    from tests import callfixtures as cf

    app = client.application
    with app.app_context():
        alice = db.session.get(type(f.admin()), people["alice"])
        f.as_user(alice)
        cf.seat(alice)
        pooled = f.customer(None, "公海丙公司", "13911115555").id
        group = groups.create_group("重点", alice)
        groups.add_to_group(group.id, [people["mine"]["customer"]], alice)
        group_id = group.id
        db.session.remove()
    alice_headers = bearer(client, people["alice_login"], "secret12")
    assert client.delete(f"/api/v1/customer/{people['mine']['customer']}", headers=alice_headers).status_code == 200
    assert client.delete(f"/api/v1/pool/{pooled}", headers=admin_headers).status_code == 200
    with app.app_context():
        alice = db.session.get(type(f.admin()), people["alice"])
        f.as_user(alice)
        # dialing by record is 404; a typed number no longer links the call to the binned customer
        with pytest.raises(NotFound):
            telephony.dial(alice, customer_id=people["mine"]["customer"])
        assert telephony.dial(alice, number="13911110001").record.customer_id is None
        from models.crm import CustomerGroup

        assert db.session.get(CustomerGroup, group_id).member_count() == 0
        db.session.remove()
    assert pooled not in client.get("/api/v1/pool/", headers=admin_headers).get_json()["ids"]
    phone = app.test_client()
    assert phone.post("/m/login", data={"username": people["alice_login"], "password": "secret12"}).status_code == 302
    assert phone.get(f"/m/customer/{people['mine']['customer']}").status_code == 404
    assert "甲公司" not in phone.get("/m/customers?q=甲").get_data(as_text=True)
    # the pool's customer comes back into the pool, for someone who may delete there
    assert client.post(f"/api/v1/customer/{pooled}/restore", headers=admin_headers).status_code == 200
    assert pooled in client.get("/api/v1/pool/", headers=admin_headers).get_json()["ids"]
