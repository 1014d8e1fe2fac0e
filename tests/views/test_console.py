"""控制台 (/console): only a role holding the 控制台 right sees it; anonymous visitors go to the login page,
employees without the right get the Chinese 403 page, never a row. The views are read-only."""
import pytest

from app import roles as role_service
from app.extensions import db
from models.call import SmsMessage
from tests import factories as f
from tests.conftest import web_login
from tests.rolefixtures import restore_roles  # noqa: F401

SECRET = "控制台机密短信内容"
VIEWS = ["console_audit_log", "console_login_log", "console_import_job", "console_call_event", "console_sms", "console_owner_history",
         "console_custom_field"]
URLS = ["/console/"] + [f"/console/{endpoint}/" for endpoint in VIEWS]


@pytest.fixture
def employee(app):
    with app.app_context():  # not kept pushed: each request gets its own `g`, as in production
        person = f.employee(role="销售主管")  # the broadest built-in role but the administrator's
        db.session.add(SmsMessage(mobile="13800000000", text=SECRET, purpose="seat_binding"))
        db.session.commit()
        login = person.username
        db.session.remove()
    return login


@pytest.mark.parametrize("url", URLS)
def test_an_anonymous_visitor_is_sent_to_the_login_page(client, employee, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response.headers["Location"]


@pytest.mark.parametrize("url", URLS)
def test_an_employee_without_the_console_right_gets_a_chinese_403(client, employee, url):
    web_login(client, employee, f.PASSWORD)
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "没有权限" in page and SECRET not in page
    assert client.get(url + "export/csv/").status_code in (403, 404)


@pytest.mark.parametrize("url", URLS)
def test_the_administrator_sees_every_console_view_in_chinese(client, employee, url):
    web_login(client)
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    assert "控制台" in page


def test_the_sms_outbox_searches_filters_sorts_and_exports(client, employee):
    web_login(client)
    page = client.get("/console/console_sms/?search=机密").get_data(as_text=True)
    assert SECRET in page and "短信发件箱" in page and "手机号" in page
    assert SECRET not in client.get("/console/console_sms/?search=不存在的").get_data(as_text=True)
    assert SECRET in client.get("/console/console_sms/?flt0_0=seat_binding&sort=1&desc=1").get_data(as_text=True)
    export = client.get("/console/console_sms/export/csv/")
    assert export.status_code == 200 and SECRET in export.get_data(as_text=True)


def test_console_views_change_nothing(client, employee):
    web_login(client)
    for endpoint in VIEWS:
        assert client.get(f"/console/{endpoint}/new/").status_code in (302, 403, 404)
        assert client.post(f"/console/{endpoint}/delete/", data={"id": "1"}).status_code in (302, 400, 403, 404)
    with client.application.app_context():
        assert db.session.query(SmsMessage).filter_by(text=SECRET).count() == 1


def test_the_console_right_is_in_the_role_matrix(client, employee, restore_roles):  # noqa: F811
    web_login(client)
    with client.application.app_context():
        role_id = client.application.appbuilder.sm.find_role("销售主管").id
        matrix = role_service.read_matrix(role_id)
    assert "console" not in matrix["modules"]
    page = client.get(f"/roles/{role_id}/permissions/").get_data(as_text=True)
    assert "控制台" in page and 'value="console:view"' in page
    form = {"perm": [f"{m}:{a}" for m, actions in matrix["modules"].items() for a in actions] + ["console:view"],
            "analysis": matrix["analysis"], "data_scope": matrix["data_scope"]}
    saved = client.post(f"/roles/{role_id}/permissions/", data=form)
    assert saved.status_code == 302
    client.get("/logout/")
    web_login(client, employee, f.PASSWORD)
    assert SECRET in client.get("/console/console_sms/").get_data(as_text=True)
