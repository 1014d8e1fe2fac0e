"""The recycle bin under the five data scopes: the administrator puts records of every bin module, owned by
people at different distances from the viewers, in the bin; each viewer (every right of every module, so only
the data scope decides) sees in 设置 → 回收站 and `GET /api/v1/recycle_bin/` exactly the binned records of the
owners in reach, and restoring one out of reach — through the screen with its CSRF token or through the API — is
a 404 that leaves it in the bin. `outsider` (no delete right) gets no bin at all."""
from __future__ import annotations

import pytest

from app.extensions import db
from app import recycle
from tests.attack.org import SCOPES
from tests.attack.sweep import MODELS
from tests.conftest import ADMIN_PASSWORD, bearer

# who owns the binned roots of each module: one person only 全部 reaches, one that a wider scope reaches
# (each module its own owners where a delete would take another module's record with it)
BINNED_OWNERS = {
    "customer": ("finance", "team2"),  # goes with its contact, opportunity, contract, invoice, follow-up
    "contact": ("sales_peer", "report_self_and_subordinates"),
    "followup": ("sales_peer", "report_self_and_subordinates"),
    "invoice": ("sales_peer", "report_self_and_subordinates"),
    "opportunity": ("boss", "team1_peer"),
    "contract": ("boss", "team1_peer"),  # its invoice goes with it: that invoice is not a root
}


@pytest.fixture(scope="module")
def binned(csrf_app, org):
    """{(module, pk): owner key} of the bin's roots, put there by the administrator through the API."""
    client = csrf_app.test_client()
    admin = bearer(client, "admin", ADMIN_PASSWORD)
    roots = {}
    order = ["invoice", "followup", "contact", "contract", "opportunity", "customer"]  # leaves first
    for module in order:
        for owner in BINNED_OWNERS[module]:
            record = next(r for r in org.of(module) if r.owner == owner
                          and (module == "customer" or r.customer == _own_customer(org, owner)))
            if module == "invoice" and owner in BINNED_OWNERS["contract"]:
                raise AssertionError("an invoice root would go with its contract")
            response = client.delete(f"/api/v1/{module}/{record.pk}", headers=admin)
            assert response.status_code == 200, (module, owner, response.get_json())
            roots[(module, record.pk)] = owner
    product = org.of("product")[0]
    assert client.delete(f"/api/v1/product/{product.pk}", headers=admin).status_code == 200
    roots[("product", product.pk)] = None
    return roots


def _own_customer(org, owner):
    return next(r.pk for r in org.of("customer") if r.owner == owner)


def _in_reach(org, scope, owner) -> bool:
    return owner is None or owner in org.owners_seen_by(scope)


def _still_binned(app, module, pk) -> bool:
    with app.app_context():
        row = db.session.get(MODELS[module], pk, execution_options={recycle.INCLUDE_BINNED: True})
        binned = row is not None and row.deleted_at is not None
        db.session.remove()
        return binned


@pytest.mark.parametrize("scope", SCOPES)
def test_the_bin_lists_exactly_the_binned_records_in_reach(org, binned, browsers, tokens, api, scope):
    expected = {key for key, owner in binned.items() if _in_reach(org, scope, owner)}
    body = api.get("/api/v1/recycle_bin/?page_size=100", headers=tokens[f"viewer_{scope}"]).get_json()
    assert {(row["module"], row["id"]) for row in body["result"]} == expected and body["count"] == len(expected)
    page = browsers[f"viewer_{scope}"].get("/recycle_bin/list/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for module, pk in binned:
        shown = f"/recycle_bin/restore/{module}/{pk}" in html
        assert shown == ((module, pk) in expected), (scope, module, pk)


@pytest.mark.parametrize("scope", SCOPES)
def test_restoring_a_binned_record_out_of_reach_is_404_and_it_stays_in_the_bin(
        csrf_app, org, binned, browsers, tokens, api, scope):
    out_of_reach = [key for key, owner in binned.items() if not _in_reach(org, scope, owner)]
    if scope == "all":
        assert not out_of_reach
    for module, pk in out_of_reach:
        answer = api.post(f"/api/v1/{module}/{pk}/restore", headers=tokens[f"viewer_{scope}"])
        assert answer.status_code == 404, (scope, module, pk, answer.get_json())
        screen = browsers[f"viewer_{scope}"].post(f"/recycle_bin/restore/{module}/{pk}")
        assert screen.status_code == 404, (scope, module, pk)
        assert _still_binned(csrf_app, module, pk), (scope, module, pk)


def test_a_binned_record_is_not_opened_by_anyone_and_outsiders_have_no_bin(csrf_app, org, binned, browsers,
                                                                            tokens, api):
    for module, pk in binned:
        for scope in SCOPES:
            assert api.get(f"/api/v1/{module}/{pk}", headers=tokens[f"viewer_{scope}"]).status_code == 404
    assert browsers["outsider"].get("/recycle_bin/list/").status_code in (302, 403)
    assert api.get("/api/v1/recycle_bin/", headers=tokens["outsider"]).status_code == 403
    module, pk = next(iter(binned))
    assert api.post(f"/api/v1/{module}/{pk}/restore", headers=tokens["outsider"]).status_code in (403, 404)
    assert _still_binned(csrf_app, module, pk)
