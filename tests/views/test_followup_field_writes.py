"""Field permissions on the hand-written follow-up forms: the phone site's 添加跟进 (/m/customer/<pk>/followup), the
phone site's call page and the PC dialing page (/m/call/<pk>, /dial/<pk>/). They follow the generated 跟进记录
add form's rule (app.fieldperms.fillable / check_fill): a new follow-up's hidden field has no input and a forged
value is ignored (a direct service call is refused, 403, nothing written); a read-only one may be filled in, as
on /followup/add; a required one (内容) the role may not fill in: no form, and a post is refused (Chinese 403)."""
import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from app import telephony
from app.errors import CrmError
from app.extensions import db
from models.crm import Customer, FollowUp
from models.org import Employee
from tests import factories as f
from tests.conftest import token_of
from tests.rolefixtures import person_with_fields
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)
from tests.views.test_sessions import form_login

pytestmark = pytest.mark.usefixtures("restore_roles")

FORGED_AT = "2031-02-03 04:05:06"
FORGED = {"way": "visit", "content": "伪造的跟进", "next_followup_at": FORGED_AT}


@pytest.fixture
def browser(csrf, client):
    return client


def _person(app, browser, rules: dict, tag: str) -> dict:
    """An employee with these follow-up field rules, logged in, whose call to the secret customer has ended."""
    ids = person_with_fields(app, {"followup": rules} if rules else {}, tag, calls=True)
    with app.app_context():
        telephony.record_outcome(db.session.get(Employee, ids["id"]), ids["call"], "answered", 30)
        db.session.commit()
        db.session.remove()
    form_login(browser, ids["login"], f.PASSWORD)
    return ids


def _text(response) -> str:
    return response.get_data(as_text=True)


def _followups(app, customer_id) -> list[tuple]:
    with app.app_context():
        return db.session.execute(select(FollowUp.way, FollowUp.content, FollowUp.next_followup_at)
                                  .where(FollowUp.customer_id == customer_id, FollowUp.content == "伪造的跟进")).all()


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FollowUp))


def _post(browser, url, data: dict, prefix: str = ""):
    """Send the form back as the page has it: its CSRF token under the page's field name."""
    page = _text(browser.get(url))
    name, token = re.search(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"', page).groups()
    return browser.post(url, data={name: token, **{prefix + k: v for k, v in data.items()}})


# where each form is, and the name its inputs carry
FORMS = {
    "phone": (lambda ids: f"/m/customer/{ids['secret']}/followup", ""),
    "phone_call": (lambda ids: f"/m/call/{ids['call']}", "followup-"),
    "pc_call": (lambda ids: f"/dial/{ids['call']}/", "followup-"),
}


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("next_access", ["read_only", "hidden"])
def test_a_hidden_field_has_no_input_and_a_forged_value_is_ignored(app, browser, form, next_access):
    ids = _person(app, browser, {"way": "hidden", "next_followup_at": next_access}, f"跟写{form}{next_access}")
    url, prefix = FORMS[form][0](ids), FORMS[form][1]
    page = _text(browser.get(url))
    assert f'name="{prefix}content"' in page
    assert f'name="{prefix}way"' not in page
    if form == "pc_call":  # the PC form shows 下次跟进时间 when the role may fill it in on a new record
        assert (f'name="{prefix}next_followup_at"' in page) == (next_access == "read_only")
    else:
        assert f'name="{prefix}next_followup_at"' not in page
    saved = _post(browser, url, FORGED, prefix)
    assert saved.status_code == 302, _text(saved)
    (way, content, at), = _followups(app, ids["secret"])
    assert way == "call"  # the default: the hidden 方式 was not written
    # read-only: filled in on a new follow-up, as /followup/add offers it; hidden: never written
    assert at == (dt.datetime(2031, 2, 3, 4, 5, 6) if next_access == "read_only" else None)


def test_the_generated_add_form_follows_the_same_rule(app, browser):
    _person(app, browser, {"way": "hidden", "next_followup_at": "read_only"}, "跟写生成")
    page = _text(browser.get("/followup/add"))
    assert 'name="content"' in page and 'name="next_followup_at"' in page and 'name="way"' not in page


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_required_field_not_fillable_means_no_form_and_a_chinese_403(app, browser, form):
    ids = _person(app, browser, {"content": "hidden"}, f"跟写内{form}")
    url, prefix = FORMS[form][0](ids), FORMS[form][1]
    before = _count(app)
    customer_page = _text(browser.get(f"/m/customer/{ids['secret']}"))
    assert "m-add-followup" not in customer_page
    if form == "phone":
        refused = browser.get(url)
        assert refused.status_code == 403 and "内容" in _text(refused)
        token = token_of(browser, f"/m/customer/{ids['secret']}")
    else:
        page = _text(browser.get(url))
        assert "m-call-followup" not in page and "crm-followup-form" not in page
        assert f'name="{prefix}content"' not in page
        token = token_of(browser, f"/m/customer/{ids['secret']}")  # the session's token, as a forger has it
    refused = browser.post(url, data={"csrf_token": token, prefix + "csrf_token": token,
                                      **{prefix + k: v for k, v in FORGED.items()}})
    assert refused.status_code == 403
    assert "必填字段“跟进内容”" in _text(refused), re.findall(r"必填[^<]*|You may[^<]*|无权[^<]*", _text(refused))
    assert _count(app) == before


def test_a_read_only_content_may_still_be_written_on_a_new_follow_up(app, browser):
    ids = _person(app, browser, {"content": "read_only"}, "跟写内读")
    saved = _post(browser, f"/m/customer/{ids['secret']}/followup", FORGED)
    assert saved.status_code == 302
    assert _followups(app, ids["secret"]) == [("visit", "伪造的跟进", dt.datetime(2031, 2, 3, 4, 5, 6))]


def test_the_service_refuses_a_value_of_a_field_the_role_may_not_fill_in(app):
    from views.calls import save_followup

    ids = person_with_fields(app, {"followup": {"way": "hidden"}}, "跟写服务")
    with app.test_request_context():
        user = db.session.get(Employee, ids["id"])
        customer = db.session.get(Customer, ids["secret"])
        before = db.session.scalar(select(func.count()).select_from(FollowUp))
        with pytest.raises(CrmError) as refused:
            save_followup(user, customer, {"way": "visit", "content": "伪造的跟进"})
        assert refused.value.status == 403 and "方式" in str(refused.value)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) == before
        saved = save_followup(user, customer, {"content": "允许的跟进"})
        assert saved.way == "call"
        db.session.rollback()


@pytest.mark.parametrize("form", sorted(FORMS))
def test_full_access_writes_every_field_as_before(app, browser, form):
    ids = _person(app, browser, {}, f"跟写全{form}")
    url, prefix = FORMS[form][0](ids), FORMS[form][1]
    assert f'name="{prefix}way"' in _text(browser.get(url))
    saved = _post(browser, url, FORGED, prefix)
    assert saved.status_code == 302
    assert _followups(app, ids["secret"]) == [("visit", "伪造的跟进", dt.datetime(2031, 2, 3, 4, 5, 6))]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_role_without_the_add_right_for_follow_ups_gets_no_form_and_a_post_is_refused(app, browser, form):
    """The call pages offered and saved a follow-up without asking 跟进记录 → 新增 (the phone's 添加跟进 did ask)."""
    from flask import current_app

    from app import roles as role_service

    ids = _person(app, browser, {}, f"无新增{form}")
    with app.app_context():
        role = current_app.appbuilder.sm.find_role(f"受限无新增{form}")
        modules = role_service.read_matrix(role.id)["modules"]
        modules["followup"] = [right for right in modules.get("followup", []) if right != "add"]
        role_service.write_matrix(role.id, {"modules": modules})
        db.session.remove()
    url, prefix = FORMS[form][0](ids), FORMS[form][1]
    page = browser.get(url)
    assert 'name="' + prefix + 'content"' not in _text(page)
    before = _count(app)
    token = re.search(r'name="([\w-]*csrf_token)"[^>]*value="([^"]+)"', _text(browser.get("/m/dialpad")))
    answer = browser.post(url, data={token.group(1): token.group(2), **{prefix + k: v for k, v in FORGED.items()}})
    assert answer.status_code == 403
    assert "您无权添加跟进记录" in _text(answer) or form == "phone"
    assert _count(app) == before and _followups(app, ids["secret"]) == []
    with app.app_context():
        with pytest.raises(CrmError) as refused:
            from views.calls import save_followup
            save_followup(db.session.get(Employee, ids["id"]), db.session.get(Customer, ids["secret"]),
                          {"content": "伪造的跟进"})
        assert refused.value.status == 403
        db.session.rollback()
    assert _count(app) == before
