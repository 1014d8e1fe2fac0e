"""设置 → 公海规则 and 选项列表, and the scheduled return to the pool, as an administrator uses them."""
import datetime as dt

from app import customers
from app.cli import pool_reclaim_command
from app.extensions import db
from models.choices import Choice
from models.crm import Customer
from tests import factories as f
from tests.conftest import web_login


def test_pool_rules_are_saved_from_the_screen_and_applied(client, app):
    web_login(client)
    assert "每人每天领取上限" in client.get("/pool-rules/form").get_data(as_text=True)
    response = client.post("/pool-rules/form", data={"daily_claim_limit": "1", "reclaim_cooldown_days": "0",
                                                     "max_owned": "0", "auto_release_days": "0"},
                           follow_redirects=True)
    assert "公海规则已保存" in response.get_data(as_text=True)
    bad = client.post("/pool-rules/form", data={"daily_claim_limit": "-3", "reclaim_cooldown_days": "0",
                                                "max_owned": "0", "auto_release_days": "0"})
    assert bad.status_code == 200
    with app.app_context():
        assert customers.pool_rules().daily_claim_limit == 1
        seller = f.employee()
        first, second = f.customer(None), f.customer(None)
        customers.claim([first.id], seller)
        try:
            customers.claim([second.id], seller)
            raise AssertionError("the daily limit was not applied")
        except Exception as error:  # noqa: BLE001 - the refusal is the point
            assert "每天最多领取 1 个客户" in str(error)


def test_an_option_in_use_is_retired_not_deleted(client, app):
    web_login(client)
    with app.app_context():
        status = f.choice("customer_status", 1)
        f.customer(f.admin(), status_id=status.id)
        status_id = status.id
        db.session.remove()
    response = client.post(f"/options/delete/{status_id}", follow_redirects=True)
    assert "请停用而不是删除" in response.get_data(as_text=True)
    client.post(f"/options/edit/{status_id}", data={"name": "意向客户", "sort_order": "1", "retired": "y"})
    with app.app_context():
        assert db.session.get(Choice, status_id).retired is True
    form = client.get("/customer/add").get_data(as_text=True)
    assert "意向客户" not in form  # a retired option is no longer offered
    client.post("/options/add", data={"kind": "customer_status", "name": "沉睡客户", "sort_order": "9"})
    assert "沉睡客户" in client.get("/customer/add").get_data(as_text=True)


def test_pool_reclaim_command_returns_stale_customers_and_is_safe_twice(app):
    with app.app_context():
        rules = customers.pool_rules()
        rules.auto_release_days = 30
        db.session.commit()
        stale = f.customer(f.employee(), last_followup_at=dt.datetime(2020, 1, 1))
        stale_id = stale.id
        db.session.remove()
    runner = app.test_cli_runner()
    assert "1 customer(s)" in runner.invoke(pool_reclaim_command).output
    assert "0 customer(s)" in runner.invoke(pool_reclaim_command).output
    with app.app_context():
        assert db.session.get(Customer, stale_id).owner_id is None
