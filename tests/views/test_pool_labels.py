"""A pool customer (公海, no owner) named where another module shows it — the record pickers of a contact's,
opportunity's and contract's 客户 and the 客户 column of those lists — is named and matched by the stricter of
公海's and 客户's field settings, as the hand-written screens name it (app/fieldperms.FieldView). Here 公海
hides 公司名称 while 客户 shows it: a pool customer is #id and cannot be found by its name; an owned
customer is still named; an employee with full access sees both names."""
import csv
import io

import pytest

from app import customers
from app.extensions import db
from models.crm import Contact
from models.org import Employee
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import SECRET_NAME, leaks, person_with_fields
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("restore_roles")

PICKERS = ("/contact/lookup/customer/", "/opportunity/lookup/customer/", "/contract/lookup/customer/")


@pytest.fixture
def pool_hides_names(app):
    """The restricted employee's secret customer returned to the pool (its contact 联系人甲 with it)."""
    ids = person_with_fields(app, {"pool": {"company_name": "hidden"}}, "公海名")
    with app.app_context():
        customers.release([ids["secret"]], "退回", db.session.get(Employee, ids["id"]))
        db.session.commit()
        db.session.remove()
    return ids


def _picked(client, url, q=""):
    response = client.get(url, query_string={"q": q})
    assert response.status_code == 200, (url, response.status_code)
    return response


def test_a_picker_names_a_pool_customer_by_the_pools_rules_and_does_not_match_its_hidden_name(
        client, pool_hidden_login):
    ids = pool_hidden_login
    for url in PICKERS:
        response = _picked(client, url)
        texts = {row["id"]: row["text"] for row in response.get_json()["results"]}
        assert texts.get(ids["secret"]) == f"#{ids['secret']}", url
        assert texts.get(ids["plain"]) == "普通乙公司", url  # owned: 客户's settings, the name shown
        assert not leaks(response.get_data(as_text=True), SECRET_NAME), url
        # the name 公海 hides finds no pool customer; the owned one is still found by its name
        assert _picked(client, url, "保密").get_json()["results"] == [], url
        assert [r["id"] for r in _picked(client, url, "普通乙").get_json()["results"]] == [ids["plain"]], url
        # a field 公海 leaves searchable still finds the pool customer (its 联系人)
        assert [r["id"] for r in _picked(client, url, "张三").get_json()["results"]] == [ids["secret"]], url


@pytest.fixture
def pool_hidden_login(client, pool_hides_names):
    web_login(client, pool_hides_names["login"], f.PASSWORD)
    return pool_hides_names


def test_the_contact_list_names_a_pool_customer_by_the_pools_rules(client, pool_hidden_login, app):
    ids = pool_hidden_login
    with app.app_context():  # a contact of the owned customer too: named by 客户's settings
        db.session.add(Contact(customer_id=ids["plain"], name="联系人乙", owner_id=ids["id"],
                               department_id=db.session.get(Employee, ids["id"]).department_id))
        db.session.commit()
        db.session.remove()
    for url in ("/contact/list/", f"/contact/show/{ids['contact']}", f"/contact/edit/{ids['contact']}"):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert not leaks(text, SECRET_NAME), url
        assert f"#{ids['secret']}" in text, url
    listed = client.get("/contact/list/").get_data(as_text=True)
    assert "联系人甲" in listed and "联系人乙" in listed and "普通乙公司" in listed


def test_the_api_names_no_pool_customer(client, pool_hides_names):
    """The API shows a contact's 客户 by its id only (customer_id): nothing of a hidden name there either."""
    headers = bearer(client, pool_hides_names["login"], f.PASSWORD)
    for url in ("/api/v1/contact/", f"/api/v1/contact/{pool_hides_names['contact']}"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200, url
        assert not leaks(response.get_data(as_text=True), SECRET_NAME), url


def test_full_access_still_names_and_finds_a_pool_customer(client, pool_hides_names):
    web_login(client)  # admin
    for url in PICKERS:
        texts = {row["id"]: row["text"] for row in _picked(client, url, "保密").get_json()["results"]}
        assert texts.get(pool_hides_names["secret"]) == SECRET_NAME, url
    page = client.get("/contact/list/").get_data(as_text=True)
    assert SECRET_NAME in page


def test_exports_name_a_pool_customer_by_the_pools_rules(client, pool_hides_names, app):
    """The contact export's 客户 column, through the screen and the API: #id for the pool customer."""
    ids = pool_hides_names
    with app.app_context():
        db.session.add(Contact(customer_id=ids["plain"], name="联系人乙", owner_id=ids["id"],
                               department_id=db.session.get(Employee, ids["id"]).department_id))
        db.session.commit()
        db.session.remove()
    headers = bearer(client, ids["login"], f.PASSWORD)
    through_api = client.get("/api/v1/contact/export?format=csv", headers=headers)
    texts = [through_api.data.decode("utf-8")]  # read before the next request: the export streams
    assert through_api.status_code == 200
    web_login(client, ids["login"], f.PASSWORD)
    through_screen = client.get("/contact/export/?format=csv")
    texts.append(through_screen.data.decode("utf-8"))
    assert through_screen.status_code == 200
    for text in texts:
        rows = {row[0]: row for row in csv.reader(io.StringIO(text.lstrip("\ufeff"))) if row}
        assert SECRET_NAME not in text
        assert f"#{ids['secret']}" in rows["联系人甲"] and "普通乙公司" in rows["联系人乙"]
