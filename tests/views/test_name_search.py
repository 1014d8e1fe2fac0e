"""The search box's substring search goes through an index (app/textsearch.py: pg_trgm on PostgreSQL,
FTS5 trigram on SQLite) and finds exactly what LIKE finds — Chinese text, mixed case, short texts,
quotes and wildcards — only in the columns the employee may search; the FTS tables follow inserts,
updates and deletes (issue 11)."""
import prison
import pytest
from sqlalchemy import or_, select, text

from app import roles as role_service
from app import textsearch
from app.extensions import db
from models.crm import Contact, Customer
from tests import factories as f
from tests.conftest import bearer, web_login
from tests.rolefixtures import restore_roles  # noqa: F401  (fixture)

NAMES = [("深圳市腾达科技有限公司", "王小明"), ("北京腾达贸易有限公司", "李雷"), ("Acme Trading 有限公司", "韩梅梅"),
         ("ACME中国", "Zhang Wei"), ("上海100%纯净水厂", "赵_六"), ('引号"测试"公司', "钱七"), ("腾", None),
         (None, "腾达联系人")]
NEEDLES = ["腾达", "腾达科", "有限公司", "Acme", "acme", "cme t", "100%", "0%纯", "赵_", '"测试"', "腾达联系",
           "不存在的名字", "Wei", "wei", "小明", "ab", "a", "有限"]


def _api_ids(client, headers, needle, module="customer"):
    q = prison.dumps({"filters": [{"col": "company_name" if module == "customer" else "name",
                                   "opr": f"kw_{module}", "value": needle}], "page_size": 100, "columns": ["id"]})
    response = client.get(f"/api/v1/{module}/?q={q}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return {row["id"] for row in response.get_json()["result"]}


def _like_ids(model, columns, needle):
    return set(db.session.scalars(select(model.id).where(or_(*[getattr(model, c).ilike(f"%{needle}%")
                                                               for c in columns]))))


@pytest.mark.parametrize("dense", [textsearch.DENSE, 2])  # 2: the common texts take the LIKE-only path
def test_search_finds_exactly_what_like_finds(app, client, admin_headers, monkeypatch, dense):
    monkeypatch.setattr(textsearch, "DENSE", dense)
    with app.app_context():
        owner = f.admin()
        for name, contact in NAMES:
            f.customer(owner, name=name, contact_name=contact)
        expected = {n: _like_ids(Customer, ("company_name", "contact_name", "mobile"), n) for n in NEEDLES}
    assert expected["腾达"] and expected["acme"] == expected["Acme"] and len(expected["有限公司"]) == 3
    for needle in NEEDLES:
        assert _api_ids(client, admin_headers, needle) == expected[needle], needle


def test_the_screen_search_box_uses_the_same_search(app, client):
    with app.app_context():
        f.customer(f.admin(), name="深圳市腾达科技有限公司")
        f.customer(f.admin(), name="北京远航物流")
    web_login(client)
    page = client.get("/customer/list/?_flt_0_company_name=腾达科技").get_data(as_text=True)
    assert "深圳市腾达科技有限公司" in page and "北京远航物流" not in page


def test_contacts_are_searched_the_same_way(app, client, admin_headers):
    with app.app_context():
        owner = f.admin()
        customer = f.customer(owner, name="客户甲")
        for name in ("欧阳娜娜", "欧阳修", "司马光"):
            db.session.add(Contact(customer_id=customer.id, name=name, owner_id=owner.id,
                                   department_id=owner.department_id))
        db.session.commit()
        expected = {n: _like_ids(Contact, ("name", "mobile"), n) for n in ("欧阳娜", "欧阳", "司马光", "光")}
    for needle, ids in expected.items():
        assert _api_ids(client, admin_headers, needle, "contact") == ids, needle
    assert len(expected["欧阳娜"]) == 1


def _fts_ids(needle):
    return set(db.session.scalars(text("SELECT rowid FROM customer_fts WHERE customer_fts MATCH :q"),
                                  {"q": textsearch.fts_match(("company_name", "contact_name"), needle)}))


def test_the_index_follows_insert_update_and_delete(app, client, admin_headers):
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
        item = f.customer(f.admin(), name="旧名称贸易公司")
        item_id = item.id
        if sqlite:
            assert _fts_ids("旧名称") == {item_id}
    assert _api_ids(client, admin_headers, "旧名称") == {item_id}
    with app.app_context():
        db.session.get(Customer, item_id).company_name = "新名称科技公司"
        db.session.commit()
        if sqlite:
            assert _fts_ids("旧名称") == set() and _fts_ids("新名称") == {item_id}
    assert _api_ids(client, admin_headers, "旧名称") == set()
    assert _api_ids(client, admin_headers, "新名称") == {item_id}
    with app.app_context():
        db.session.execute(Customer.__table__.update().where(Customer.id == item_id).values(contact_name="周八号"))
        db.session.commit()
        if sqlite:
            assert _fts_ids("周八号") == {item_id}
        db.session.delete(db.session.get(Customer, item_id))
        db.session.commit()
        if sqlite:
            assert _fts_ids("新名称") == set() and _fts_ids("周八号") == set()
            # the index itself is consistent with its content table
            db.session.execute(text("INSERT INTO customer_fts(customer_fts, rank) VALUES ('integrity-check', 1)"))
    assert _api_ids(client, admin_headers, "新名称") == set()


@pytest.mark.usefixtures("restore_roles")
def test_a_field_the_role_may_not_see_is_not_searched(app, client):
    with app.app_context():
        role = role_service.copy_role(app.appbuilder.sm.find_role("销售主管").id, "看不到联系人")
        role_service.write_matrix(role.id, {"fields": {"customer": {"contact_name": "hidden"}}})
        person = f.employee("受限搜索员", role=role.name)
        by_company = f.customer(person, name="腾达科技有限公司", contact_name="王五")
        f.customer(person, name="远航物流", contact_name="腾达王")
        login, expected = person.username, {by_company.id}
    headers = bearer(client, login, f.PASSWORD)
    assert _api_ids(client, headers, "腾达") == expected  # 2 characters: LIKE
    assert _api_ids(client, headers, "腾达科") == expected  # 3: the index
    assert _api_ids(client, headers, "腾达王") == set()  # only in the hidden contact name


def test_every_keyword_column_is_indexed():
    from views.modules import SPECS

    for spec in SPECS:
        if spec.keyword_columns:
            covered = textsearch.INDEXED.get(spec.model.__table__.name, ())
            assert set(spec.keyword_columns) <= set(covered), spec.key


def test_postgresql_answers_a_name_search_from_the_trigram_index(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the trigram index is PostgreSQL's; SQLite's FTS table is tested above")
        with db.engine.connect() as conn:
            conn.execute(text("SET enable_seqscan = off"))
            plan = "\n".join(r[0] for r in conn.execute(text(
                "EXPLAIN SELECT id FROM customer WHERE company_name ILIKE '%腾达科技%'")))
        assert "ix_customer_company_name_trgm" in plan, plan
