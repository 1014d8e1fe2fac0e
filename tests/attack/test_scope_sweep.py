"""The data-scope sweep: for each module, each of the five data scopes and each surface — the list screen and
API, the detail screen and API, the edit and delete screens and API, the bulk actions, the exports (.csv and
.xlsx, screen and API), the record and employee pickers, a customer's related tabs (PC and phone) — a record out
of the viewer's reach is neither listed nor opened, and trying to change or delete it is refused with the row
left as it was. The viewers hold every right of the nine modules (a 403 would prove nothing), so only the data
scope stands between them and the records; `outsider` holds no right at all and is refused everything.
The organisation is tests/attack/org.py; tests/views/test_idor.py has the two-person version of the same."""
from __future__ import annotations

import pytest

from tests.attack.org import SCOPES
from tests.attack.sweep import (CHANGES, EMPLOYEE_PICKERS, MODULE_KEYS, PICKERS, REFUSED, export_text, few,
                                shown_pks, snapshot)

OWNED_WRITABLE = ("customer", "contact", "opportunity", "contract", "followup", "invoice", "customer_group")


def _viewer(scope):
    return f"viewer_{scope}"


def _check_module(module, org):
    assert org.of("customer" if module == "pool" else module), module


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", MODULE_KEYS)
def test_the_list_screen_and_api_show_exactly_the_records_in_scope(org, browsers, tokens, api, module, scope):
    _check_module(module, org)
    expected = org.visible(module, scope)
    assert expected, (module, scope)
    page = browsers[_viewer(scope)].get(f"/{module}/list/")
    assert page.status_code == 200
    assert shown_pks(page.get_data(as_text=True), module) == expected
    body = api.get(f"/api/v1/{module}/?q=(page_size:100)", headers=tokens[_viewer(scope)]).get_json()
    assert set(body["ids"]) == expected and body["count"] == len(expected)


SEARCHABLE = {"customer": "company_name", "pool": "company_name", "contact": "name", "opportunity": "name",
              "contract": "number", "product": "code", "followup": "content", "invoice": "number",
              "customer_group": "name"}  # the first keyword column: the search box (it searches every keyword column)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", sorted(SEARCHABLE))
def test_the_search_box_finds_nothing_out_of_scope(org, browsers, tokens, api, module, scope):
    import prison

    column = SEARCHABLE[module]
    mine = min(org.visible(module, scope))
    for record, found in [(None, mine)] + [(r, None) for r in few(org.hidden(module, scope))]:
        marker = org.marker_of(module, found) if record is None else record.marker
        page = browsers[_viewer(scope)].get(f"/{module}/list/?_flt_0_{column}={marker}").get_data(as_text=True)
        q = prison.dumps({"filters": [{"col": column, "opr": f"kw_{module}", "value": marker}]})
        body = api.get(f"/api/v1/{module}/?q={q}", headers=tokens[_viewer(scope)]).get_json()
        expected = {found} if found else set()
        assert shown_pks(page, module) == expected and set(body["ids"]) == expected, (module, marker, body)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", MODULE_KEYS)
def test_a_record_out_of_scope_does_not_open(org, browsers, tokens, api, module, scope):
    browser, headers = browsers[_viewer(scope)], tokens[_viewer(scope)]
    mine = min(org.visible(module, scope))
    assert browser.get(f"/{module}/show/{mine}").status_code == 200  # the rights are there
    assert api.get(f"/api/v1/{module}/{mine}", headers=headers).status_code == 200
    for record in few(org.hidden(module, scope), 6):
        assert browser.get(f"/{module}/show/{record.pk}").status_code == 404, record
        assert api.get(f"/api/v1/{module}/{record.pk}", headers=headers).status_code == 404, record
        if module not in ("call",):  # call records have no edit form at all (403 for everyone)
            assert browser.get(f"/{module}/edit/{record.pk}").status_code in REFUSED, record
        else:  # the call's own page (outcome, follow-up) on the PC and the phone
            assert browser.get(f"/dial/{record.pk}/").status_code == 404, record
            assert browser.get(f"/m/call/{record.pk}").status_code == 404, record


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", MODULE_KEYS)
def test_changing_or_deleting_a_record_out_of_scope_is_refused_and_changes_nothing(
        csrf_app, org, browsers, tokens, api, module, scope):
    browser, headers = browsers[_viewer(scope)], tokens[_viewer(scope)]
    for record in few(org.hidden(module, scope)):
        before = snapshot(csrf_app, module, record.pk)
        attempts = [
            browser.post(f"/{module}/edit/{record.pk}", data=CHANGES[module]),
            browser.post(f"/{module}/delete/{record.pk}"),
            api.put(f"/api/v1/{module}/{record.pk}", json=CHANGES[module], headers=headers),
            api.delete(f"/api/v1/{module}/{record.pk}", headers=headers),
        ]
        for response in attempts[:4]:
            assert response.status_code in REFUSED, (record, response.request.method, response.request.path,
                                                     response.status_code)
        if module == "call":  # what a call's page and the API change: its outcome, its end
            attempts += [browser.post(f"/dial/{record.pk}/", data={"outcome-disposition": "no_answer"}),
                         browser.post(f"/m/call/{record.pk}", data={"outcome-disposition": "no_answer"}),
                         api.post(f"/api/v1/call/{record.pk}/outcome", json={"disposition": "no_answer"},
                                  headers=headers),
                         api.post(f"/api/v1/call/{record.pk}/hangup", json={}, headers=headers)]
            assert [r.status_code for r in attempts[4:]] == [404] * 4, record
        if module in OWNED_WRITABLE:  # the rights are there: only the scope refuses
            assert [r.status_code for r in attempts] == [404, 404, 404, 404], record
        assert snapshot(csrf_app, module, record.pk) == before, record


@pytest.mark.parametrize("scope", SCOPES)
def test_bulk_actions_on_customers_out_of_scope_are_refused_whole(csrf_app, org, browsers, tokens, api, scope):
    """转移, 退回公海, 领取, 分配 (API and screens), with one of the viewer's own customers in the same request."""
    browser, headers, me = browsers[_viewer(scope)], tokens[_viewer(scope)], org.ids[_viewer(scope)]
    mine = min(org.visible("customer", scope))
    owned_hidden = [r for r in org.hidden("customer", scope) if r.owner is not None]
    pooled = [r for r in org.of("customer") if r.owner is None]
    for record in few(owned_hidden + pooled):
        before, mine_before = snapshot(csrf_app, "customer", record.pk), snapshot(csrf_app, "customer", mine)
        for action, body in (("transfer", {"owner": me}), ("release", {"reason": "抢"})):
            response = api.post(f"/api/v1/customer/{action}", json={"ids": [mine, record.pk], **body},
                                headers=headers)
            assert response.status_code == 404, (action, record, response.get_json())
        if record.owner is not None:  # a pool customer may be claimed and assigned: that is what the pool is for
            for action, body in (("claim", {}), ("assign", {"owner": me})):
                response = api.post(f"/api/v1/customer/{action}", json={"ids": [record.pk], **body}, headers=headers)
                assert response.status_code in (404, 409), (action, record, response.get_json())  # 409: not pooled
            response = browser.post("/pool/action_post", data={"action": "claim", "rowid": [str(record.pk)]})
            assert response.status_code == 404, record
        for action, form in (("transfer", {"owner": str(me)}), ("release", {"reason": "抢"})):
            response = browser.post(f"/customer/act/{action}/?ids={mine},{record.pk}", data=form)
            assert response.status_code in (400, 404), (action, record, response.status_code)
            if response.status_code == 400:  # the form again, saying why
                assert "不在您的数据权限内" in response.get_data(as_text=True)
        assert snapshot(csrf_app, "customer", record.pk) == before, record
        assert snapshot(csrf_app, "customer", mine) == mine_before


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", MODULE_KEYS)
def test_exports_hold_exactly_the_records_in_scope(org, browsers, tokens, api, module, scope):
    expected = {org.marker_of(module, pk) for pk in org.visible(module, scope)}
    others = {r.marker for r in org.hidden(module, scope)}
    for fmt in ("csv", "xlsx"):
        for text in (export_text(browsers[_viewer(scope)].get(f"/{module}/export/?format={fmt}")),
                     export_text(api.get(f"/api/v1/{module}/export?format={fmt}", headers=tokens[_viewer(scope)]))):
            assert {m for m in expected if m in text} == expected, (fmt, module)
            assert {m for m in others if m in text} == set(), (fmt, module)


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("module", sorted(PICKERS))
def test_record_pickers_offer_only_records_in_reach(org, browsers, module, scope):
    """A form's picker (and a list's relationship filter) offers what the viewer may reach: the records in scope
    and, for those who may look into the pool, the pool's customers and their contacts."""
    expected = org.visible(module, scope)
    if module == "customer":
        expected |= org.visible("pool", scope)
    browser = browsers[_viewer(scope)]
    for form_module, relationship in PICKERS[module]:
        response = browser.get(f"/{form_module}/lookup/{relationship}/")
        assert response.status_code == 200, (form_module, relationship)
        assert {row["id"] for row in response.get_json()["results"]} == expected, (form_module, relationship)
        for record in few(org.hidden(module, scope)):
            if record.pk in expected:
                continue
            found = browser.get(f"/{form_module}/lookup/{relationship}/?q={record.marker}").get_json()["results"]
            assert found == [], (form_module, relationship, record)


@pytest.mark.parametrize("scope", SCOPES)
def test_employee_pickers_offer_only_employees_in_scope(csrf_app, org, browsers, scope):
    expected = {org.ids[key] for key in org.owners_seen_by(scope)}
    browser = browsers[_viewer(scope)]
    for module in EMPLOYEE_PICKERS:
        found = {row["id"] for row in browser.get(f"/{module}/lookup/owner/").get_json()["results"]}
        if scope == "all":
            found.discard(_admin_id(csrf_app))
        assert found == expected, module
    stranger = next(k for k in ("finance", "boss") if k not in org.owners_seen_by(scope)) if scope != "all" else None
    if stranger:
        assert browser.get(f"/customer/lookup/owner/?q={org.logins[stranger]}").get_json()["results"] == []


def _admin_id(app):
    from tests import factories as f

    with app.app_context():
        return f.admin().id


@pytest.mark.parametrize("scope", SCOPES)
def test_a_customers_related_tabs_show_only_records_in_scope(org, browsers, scope):
    """The viewer's own customer has a follow-up, an opportunity, a contract, an invoice and a call by the
    finance employee (out of every scope but 全部): the detail page's tabs and the phone's customer page show
    them only to 全部."""
    browser = browsers[_viewer(scope)]
    own = next(r for r in org.of("customer") if r.owner == _viewer(scope))
    pages = [browser.get(f"/customer/show/{own.pk}"), browser.get(f"/m/customer/{own.pk}")]
    assert [p.status_code for p in pages] == [200, 200]
    pc, phone = (p.get_data(as_text=True) for p in pages)
    related = [r for r in org.records if r.customer == own.pk and r.module != "contact"]
    assert {r.owner for r in related} == {_viewer(scope), "finance"}
    for record in related:
        assert (record.marker in pc) == (record.owner in org.owners_seen_by(scope)), record
        if record.owner not in org.owners_seen_by(scope):
            assert record.marker not in phone, record
    for record in few([r for r in org.hidden("customer", scope) if r.owner is not None]):  # the pool is open
        assert browser.get(f"/m/customer/{record.pk}").status_code == 404, record
        assert browser.get(f"/m/customer/{record.pk}/followup").status_code == 404, record


@pytest.mark.parametrize("scope", SCOPES)
def test_the_phone_customer_list_shows_only_customers_in_scope(org, browsers, scope):
    page = browsers[_viewer(scope)].get("/m/customers").get_data(as_text=True)
    for record in org.of("customer"):
        if record.owner is None:
            continue
        assert (record.marker in page) == (record.owner in org.owners_seen_by(scope)), record


@pytest.mark.parametrize("module", MODULE_KEYS)
def test_an_employee_without_the_modules_rights_is_refused_everything(csrf_app, org, browsers, tokens, api, module):
    browser, headers = browsers["outsider"], tokens["outsider"]
    record = (org.of("customer") if module == "pool" else org.of(module))[0]
    before = snapshot(csrf_app, module, record.pk)
    for url in (f"/{module}/list/", f"/{module}/show/{record.pk}", f"/{module}/edit/{record.pk}",
                f"/{module}/export/?format=csv", f"/{module}/lookup/owner/", f"/{module}/add"):
        assert browser.get(url).status_code in REFUSED, url
    for url in (f"/{module}/edit/{record.pk}", f"/{module}/delete/{record.pk}", f"/{module}/add"):
        assert browser.post(url, data=CHANGES[module]).status_code in REFUSED, url
    for method, url in (("get", f"/api/v1/{module}/"), ("get", f"/api/v1/{module}/{record.pk}"),
                        ("get", f"/api/v1/{module}/export?format=csv"), ("put", f"/api/v1/{module}/{record.pk}"),
                        ("delete", f"/api/v1/{module}/{record.pk}"), ("post", f"/api/v1/{module}/")):
        response = getattr(api, method)(url, headers=headers, json=CHANGES[module] if method in ("put", "post")
                                        else None)
        assert response.status_code in REFUSED, (method, url, response.status_code)
    assert snapshot(csrf_app, module, record.pk) == before
