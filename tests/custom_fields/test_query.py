"""Filters, counts and sorting on custom values are SQL, and every query shape gives the same answer:
driven from the value index or probing records, counted on the value index (minus the pool) or through
the join."""
import pytest
from flask import g

from app.extensions import db
from custom_fields import definitions, query, service, values
from models.org import Employee
from models.sales import Product
from views.datamodel import CrmInterface
from tests import factories as f


def view_for(app, key):
    return next(v for v in app.appbuilder.baseviews if getattr(getattr(v, "spec", None), "key", None) == key)


@pytest.fixture
def world(app):
    """Customers of the admin, of a salesperson and in the pool, with 城市, 员工人数 and 标签 values."""
    with app.test_request_context("/customer/list/"):
        admin, seller = f.admin(), f.employee("小王")
        city = service.create_field("customer", {"label": "城市", "type": "select", "options": ["杭州", "上海"],
                                                 "filterable": True})
        staff = service.create_field("customer", {"label": "员工人数", "type": "integer", "filterable": True})
        tags = service.create_field("customer", {"label": "标签", "type": "multiselect", "options": ["重点", "老客户"],
                                                 "filterable": True})
        hangzhou = city.options[0].id
        rows = [("甲", admin, "杭州", 30, "重点"), ("乙", admin, "杭州", 10, "重点、老客户"), ("丙", admin, "上海", 20, None),
                ("丁", admin, None, None, "重点"), ("戊", seller, "杭州", 40, "老客户、重点"), ("己", None, "杭州", 5, "重点"),
                ("庚", None, "杭州", None, "老客户"), ("辛", admin, None, 25, "重点")]
        for name, owner, town, count, chosen in rows:
            customer = f.customer(owner, name)
            values.save_record("customer", customer.id, {f"cf_{city.key}": town, f"cf_{staff.key}": count,
                                                         f"cf_{tags.key}": chosen}, creating=False)
        db.session.commit()
        ids = dict(seller=seller.id, hangzhou=hangzhou, key_account=tags.options[0].id)
        db.session.remove()
    return ids


def listing(app, key, user_id, bounds=None, sort=None, direction="desc", page=0, size=50):
    """(count, names) of a list screen's query for a user, with custom filters and sort (newest first)."""
    with app.test_request_context(f"/{key}/list/"):
        g.user = db.session.get(Employee, user_id)
        view = view_for(app, key)
        defs = {d.label: d for d in definitions("customer")}
        conditions = [query.condition(defs[label], given) for label, given in (bounds or {}).items()]
        joined = view._filters.get_joined_filters(view._base_filters)
        total, items = query.page(view.datamodel, "customer", joined, conditions, "", direction, page, size,
                                  sort=defs[sort] if sort else None)
        return total, [i.company_name for i in items]


def admin_id(app):
    with app.app_context():
        return f.admin().id


@pytest.mark.parametrize("probe_above", [5000, 0])
def test_a_filter_counts_what_the_list_shows_whatever_the_shape(app, world, monkeypatch, probe_above):
    monkeypatch.setattr(query, "PROBE_ABOVE", probe_above)  # 0: the pool-subtracting count, probing pages
    admin = admin_id(app)
    hangzhou = {"城市": {"eq": world["hangzhou"]}}
    assert listing(app, "customer", admin, hangzhou) == (3, ["戊", "乙", "甲"])  # the pool's 己 and 庚 are not here
    assert listing(app, "pool", admin, hangzhou) == (2, ["庚", "己"])
    assert listing(app, "customer", world["seller"], hangzhou) == (1, ["戊"])  # the salesperson's scope
    ranged = {"员工人数": {"gte": 10, "lte": 30}}
    assert listing(app, "customer", admin, ranged) == (4, ["辛", "丙", "乙", "甲"])
    both = {"城市": {"eq": world["hangzhou"]}, "员工人数": {"gte": 20}}
    assert listing(app, "customer", admin, both) == (2, ["戊", "甲"])


@pytest.mark.parametrize("probe_above", [5000, 0])
def test_sorting_lists_values_in_order_then_the_empty_ones_across_pages(app, world, monkeypatch, probe_above):
    monkeypatch.setattr(query, "PROBE_ABOVE", probe_above)
    admin = admin_id(app)
    pages = [listing(app, "customer", admin, sort="员工人数", direction="asc", page=p, size=2) for p in range(4)]
    assert [total for total, _names in pages] == [6, 6, 6, 6]
    assert [name for _total, names in pages for name in names] == ["乙", "丙", "辛", "甲", "戊", "丁"]
    _total, descending = listing(app, "customer", admin, sort="员工人数", direction="desc")
    assert descending == ["戊", "甲", "辛", "丙", "乙", "丁"]  # empty values last in both directions
    _total, filtered = listing(app, "customer", admin, {"城市": {"eq": world["hangzhou"]}}, sort="员工人数",
                               direction="asc")
    assert filtered == ["乙", "甲", "戊"]


def unscoped_count(app, bounds, cap):
    """The count with nothing on the record side: the value index alone."""
    with app.test_request_context("/customer/list/"):
        g.user = f.admin()
        defs = {d.label: d for d in definitions("customer")}
        conditions = [query.condition(defs[label], given) for label, given in bounds.items()]
        return query.count(view_for(app, "customer").datamodel.obj, "customer", None, conditions, cap)


@pytest.mark.parametrize("probe_above", [5000, 0])
def test_a_capped_count_is_exact_up_to_the_cap_and_over_it_above(app, world, monkeypatch, probe_above):
    """Like the lists' own counts: exact while it is at most the cap, some number over the cap above it
    (the screen shows "10,000+"), never a wrong number; the page is the same whatever the cap."""
    monkeypatch.setattr(query, "PROBE_ABOVE", probe_above)
    admin = admin_id(app)
    filters = {"select": {"城市": {"eq": world["hangzhou"]}}, "multiselect": {"标签": {"has": world["key_account"]}},
               "range": {"员工人数": {"gte": 10, "lte": 30}}}
    expected = {  # (screen, user, filter): (exact count, page); the admin's customer list leaves out the pool
        ("customer", admin, "select"): (3, ["戊", "乙", "甲"]),
        ("customer", admin, "multiselect"): (5, ["辛", "戊", "丁", "乙", "甲"]),
        ("customer", admin, "range"): (4, ["辛", "丙", "乙", "甲"]),
        ("pool", admin, "select"): (2, ["庚", "己"]),
        ("pool", admin, "multiselect"): (1, ["己"]),
        ("pool", admin, "range"): (0, []),
        ("customer", world["seller"], "select"): (1, ["戊"]),
        ("customer", world["seller"], "multiselect"): (1, ["戊"]),
        ("customer", world["seller"], "range"): (0, []),
    }
    unscoped = {"select": 5, "multiselect": 6, "range": 4}  # no record-side filter: every customer
    for (key, user, name), (exact, names) in expected.items():
        assert listing(app, key, user, filters[name]) == (exact, names)  # the real cap, 10,000
    for name, exact in unscoped.items():
        assert unscoped_count(app, filters[name], CrmInterface.count_cap) == exact
        assert unscoped_count(app, filters[name], None) == exact
    for cap in range(1, 7):
        monkeypatch.setattr(CrmInterface, "count_cap", cap)
        for (key, user, name), (exact, names) in expected.items():
            total, shown = listing(app, key, user, filters[name])
            assert shown == names, (cap, key, name)
            assert total == exact if exact <= cap else total > cap, (cap, key, name, total)
        for name, exact in unscoped.items():
            total = unscoped_count(app, filters[name], cap)
            assert total == exact if exact <= cap else total > cap, (cap, name, total)


def test_a_module_without_record_side_filters_counts_on_the_value_index(app, ctx):
    field = service.create_field("product", {"label": "产地", "type": "text", "filterable": True})
    for code, origin in (("P1", "杭州"), ("P2", "杭州"), ("P3", "上海")):
        product = Product(code=code, name=code)
        db.session.add(product)
        db.session.flush()
        values.save_record("product", product.id, {f"cf_{field.key}": origin}, creating=False)
    db.session.commit()
    with app.test_request_context("/product/list/"):
        g.user = f.admin()
        view = view_for(app, "product")
        condition = query.condition(definitions("product")[0], {"eq": "杭州"})
        joined = view._filters.get_joined_filters(view._base_filters)
        assert query._record_side(view.datamodel.obj, joined) is None
        assert query.count(view.datamodel.obj, "product", joined, [condition]) == 2


def test_a_datetime_filter_with_a_bare_date_means_that_whole_day(ctx):
    field = service.create_field("customer", {"label": "回访时间", "type": "datetime", "filterable": True})
    d = definitions("customer")[0]
    day = query.condition(d, {"eq": "2024-03-01"})
    assert (day.low.isoformat(), day.high.isoformat()) == ("2024-03-01T00:00:00", "2024-03-01T23:59:59")
    upto = query.condition(d, {"lte": "2024-03-01"})
    assert upto.low is None and upto.high.isoformat() == "2024-03-01T23:59:59"
    assert field.key in d.name
