"""手机端 (/m/) as a salesperson uses it on a phone: log in, a group, a customer, 拨打电话, the outcome and
the follow-up, the 拨号盘, recent calls; the same permissions and data scope as the PC."""
import pytest
from sqlalchemy import select

from app import groups
from app.extensions import db
from models.call import CallRecord
from models.crm import FollowUp
from tests import callfixtures as cf
from tests import factories as f
from tests.factories import PASSWORD


@pytest.fixture
def data(app):
    with app.app_context():
        seller, other = f.employee("小李"), f.employee("小王")
        cf.seat(seller)
        mine = f.customer(seller, "甲公司", "13911110001")
        theirs = f.customer(other, "乙公司", "13911110002")
        group = groups.create_group("重点客户", seller)
        groups.add_to_group(group.id, [mine.id], seller)
        ids = dict(login=seller.username, mine=mine.id, theirs=theirs.id, group=group.id,
                   other_login=other.username)
        db.session.remove()
    return ids


def _login(client, login):
    return client.post("/m/login", data={"username": login, "password": PASSWORD}, follow_redirects=True)


def test_mobile_flow_from_login_to_follow_up(client, app, data):
    assert client.get("/m/").status_code == 302
    assert "密码错误" in _login(client, "13900000000").get_data(as_text=True)
    home = _login(client, data["login"]).get_data(as_text=True)
    assert "重点客户" in home and 'name="viewport"' in home
    group = client.get(f"/m/customers?group={data['group']}").get_data(as_text=True)
    assert "甲公司" in group and "乙公司" not in group
    detail = client.get(f"/m/customer/{data['mine']}").get_data(as_text=True)
    assert "拨打电话" in detail and "13911110001" in detail
    dialed = client.post("/m/dial", data={"customer": data["mine"]})
    call_page = client.get(dialed.headers["Location"]).get_data(as_text=True)
    assert 'href="tel:13911110001"' in call_page
    call_id = int(dialed.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/m/call/{call_id}", data={"outcome-disposition": "answered", "outcome-talk_seconds": "30"})
    page = client.get(f"/m/call/{call_id}").get_data(as_text=True)
    assert "m-call-followup" in page and "通话 30 秒" in page
    client.post(f"/m/call/{call_id}", data={"followup-way": "call", "followup-content": "手机上的跟进"})
    with app.app_context():
        assert db.session.scalar(select(FollowUp.call_record_id)) == call_id
    assert "手机上的跟进" in client.get(f"/m/customer/{data['mine']}").get_data(as_text=True)
    assert "甲公司" in client.get("/m/calls").get_data(as_text=True)


def test_dial_pad_search_and_plain_follow_up(client, app, data):
    _login(client, data["login"])
    assert "m-key" in client.get("/m/dialpad").get_data(as_text=True)
    dialed = client.post("/m/dial", data={"number": "02188889999"})
    assert "tel:02188889999" in client.get(dialed.headers["Location"]).get_data(as_text=True)
    refused = client.post("/m/dial", data={"number": "1"}, headers={"Referer": "/m/dialpad"},
                          follow_redirects=True)
    assert "不是可以拨打的电话号码" in refused.get_data(as_text=True)
    assert "甲公司" in client.get("/m/customers?q=1391111").get_data(as_text=True)
    assert "乙公司" not in client.get("/m/customers?q=乙").get_data(as_text=True)
    client.post(f"/m/customer/{data['mine']}/followup", data={"way": "visit", "content": "上门拜访"})
    with app.app_context():
        assert db.session.scalar(select(FollowUp.content)) == "上门拜访"


def test_mobile_keeps_the_pc_scope(client, app, data):
    _login(client, data["login"])
    assert client.get(f"/m/customer/{data['theirs']}").status_code == 404
    assert client.post("/m/dial", data={"customer": data["theirs"]}).status_code == 404
    assert client.get(f"/m/customers?group=99999").status_code == 404
    assert client.get(f"/m/customer/{data['theirs']}/followup").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(CallRecord.id)) is None
    client.get("/m/logout")
    _login(client, data["other_login"])  # 小王 has no seat
    refused = client.post("/m/dial", data={"customer": data["theirs"]}, headers={"Referer": "/m/"},
                          follow_redirects=True)
    assert "您还没有坐席" in refused.get_data(as_text=True)
