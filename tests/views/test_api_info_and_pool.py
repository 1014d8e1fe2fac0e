"""Issue 8.16: the REST API describes itself truthfully and in Chinese, and the pool answers as the README
says: `_info` marks what POST demands (read from the model, not a list), every column has a Chinese
label, /api/v1/pool/ takes the search box's `kw_customer`, and assigning or claiming a customer that has
left the pool is a 409 "不在公海中" (an id out of reach stays 404)."""
import re

import prison
import pytest

from app import records
from app.extensions import db
from models.crm import Customer
from tests import factories as f
from tests.conftest import bearer, web_login
from views.modules import SPECS

CJK = re.compile(r"[\u4e00-\u9fff]")
MODULES_WITH_FORMS = [spec.key for spec in SPECS if spec.form_columns]


@pytest.mark.parametrize("module", MODULES_WITH_FORMS)
def test_info_marks_what_post_demands(client, admin_headers, module):
    info = client.get(f"/api/v1/{module}/_info", headers=admin_headers).get_json()
    marked = {c["name"] for c in info["add_columns"] if c["required"]}
    spec = next(s for s in SPECS if s.key == module)
    assert marked == records.required_fields(spec.model) & set(spec.form_columns)
    # and POST really demands each of them: leaving one out is a 400 naming it
    for name in marked:
        response = client.post(f"/api/v1/{module}/", json={}, headers=admin_headers)
        assert response.status_code == 400 and response.get_json().get("field") in marked, response.get_json()
    assert not any(c["required"] for c in info["edit_columns"] if not c.get("custom"))  # PUT changes a part


def test_the_modules_required_fields_are_the_ones_the_issue_names():
    """What the marks come from: customer/contact/opportunity/contract/followup need a customer, a product
    its code, an invoice its contract (and whatever else the model declares NOT NULL without a default)."""
    by_key = {spec.key: spec.model for spec in SPECS}
    for module in ("contact", "opportunity", "contract", "followup"):
        assert "customer" in records.required_fields(by_key[module]), module
    assert "code" in records.required_fields(by_key["product"])
    assert "contract" in records.required_fields(by_key["invoice"])
    assert "owner" not in records.required_fields(by_key["customer"])


@pytest.mark.parametrize("module", [spec.key for spec in SPECS])
def test_every_column_has_a_chinese_label(client, admin_headers, module):
    info = client.get(f"/api/v1/{module}/_info", headers=admin_headers).get_json()
    listed = client.get(f"/api/v1/{module}/", headers=admin_headers).get_json()
    shown = client.get(f"/api/v1/{module}/_info?q={prison.dumps({'keys': ['add_columns']})}",
                       headers=admin_headers).get_json()
    labels = dict(listed["label_columns"])
    for key in ("add_columns", "edit_columns"):
        labels.update({c["name"]: c["label"] for c in info.get(key, [])})
    labels.update({c["name"]: c["label"] for c in shown.get("add_columns", [])})
    english = {name: label for name, label in labels.items() if not CJK.search(str(label))}
    assert not english, english


def test_the_pool_api_takes_the_readmes_search_filter(client, admin_headers):
    with client.application.app_context():
        f.customer(None, "公海甲公司", "13711110000")
        f.customer(None, "公海乙公司", "13722220000")
        db.session.remove()
    for operator in ("kw_customer", "kw_pool"):
        q = prison.dumps({"filters": [{"col": "company_name", "opr": operator, "value": "甲"}]})
        response = client.get(f"/api/v1/pool/?q={q}", headers=admin_headers)
        assert response.status_code == 200, response.get_json()
        assert [row["company_name"] for row in response.get_json()["result"]] == ["公海甲公司"]
    q = prison.dumps({"filters": [{"col": "company_name", "opr": "kw_customer", "value": "1372222"}]})
    assert client.get(f"/api/v1/pool/?q={q}", headers=admin_headers).get_json()["count"] == 1


@pytest.fixture
def owned(app):
    with app.app_context():
        seller = f.employee("分配测试销售", role="销售主管")
        mine = f.customer(seller, "已有负责人的客户")
        stranger = f.employee("别部门的人")
        theirs = f.customer(stranger, "别人的客户")
        pooled = f.customer(None, "还在公海的客户")
        ids = dict(login=seller.username, seller=seller.id, mine=mine.id, theirs=theirs.id, pooled=pooled.id)
        db.session.remove()
    return ids


def test_assigning_or_claiming_a_customer_not_in_the_pool_is_409(client, owned):
    headers = bearer(client, owned["login"], f.PASSWORD)
    for action, body in (("assign", {"owner": owned["seller"]}), ("claim", {})):
        response = client.post(f"/api/v1/pool/{action}", json={"ids": [owned["mine"]], **body}, headers=headers)
        assert response.status_code == 409, (action, response.get_json())
        assert "不在公海中" in response.get_json()["message"]
        both = client.post(f"/api/v1/pool/{action}", json={"ids": [owned["pooled"], owned["mine"]], **body},
                           headers=headers)
        assert both.status_code == 409  # all or nothing
        # a customer out of reach says nothing about itself
        hidden = client.post(f"/api/v1/pool/{action}", json={"ids": [owned["theirs"]], **body}, headers=headers)
        assert hidden.status_code == 404
        assert client.post(f"/api/v1/pool/{action}", json={"ids": [987654], **body},
                           headers=headers).status_code == 404
    with client.application.app_context():
        assert db.session.get(Customer, owned["pooled"]).owner_id is None
        assert db.session.get(Customer, owned["theirs"]).owner_id != owned["seller"]


def test_the_pool_screen_says_not_in_the_pool_too(client, owned):
    web_login(client, owned["login"], f.PASSWORD)
    page = client.post(f"/pool/act/assign/?ids={owned['mine']}", data={"owner": str(owned["seller"])})
    # a refused form comes back with its message as a 4xx (views/base.py)
    assert page.status_code in (400, 409) and "不在公海中" in page.get_data(as_text=True)
