"""A streamed export holds its own database connection and gives it back: the attack was ~90 CSV exports
in a row exhausting the pool, after which every request (login included) failed for minutes."""
from __future__ import annotations

import pytest
from sqlalchemy.pool import QueuePool

from app.extensions import db
from tests import factories as f
from tests.conftest import ADMIN_PASSWORD, web_login
from views.modules import SPECS


@pytest.fixture
def small_pool(app):
    """The app's engine on a pool of 2 connections, no overflow, 3 s wait: a leak shows in a few requests."""
    with app.app_context():
        engine = db.engine
    old = engine.pool
    engine.pool = QueuePool(old._creator, pool_size=2, max_overflow=0, timeout=3, dialect=old._dialect,
                            pre_ping=old._pre_ping, reset_on_return=old._reset_on_return, _dispatch=old.dispatch)
    yield engine.pool
    engine.pool.dispose()
    engine.pool = old


@pytest.fixture
def some_customers(app):
    with app.app_context():
        seller = f.employee("导出员")
        for _ in range(3):
            f.customer(seller)
        db.session.remove()


def test_over_a_hundred_csv_exports_in_a_row_leave_no_connection_checked_out(app, client, admin_headers,
                                                                            small_pool, some_customers):
    for _ in range(110):
        response = client.get("/api/v1/customer_group/export?format=csv", headers=admin_headers)
        assert response.status_code == 200
        response.get_data()
        response.close()
        assert small_pool.checkedout() == 0
    # the pool is not exhausted: logging in through the form still works
    page = web_login(app.test_client(), "admin", ADMIN_PASSWORD)
    assert page.status_code == 200 and "/login" not in page.request.path
    assert small_pool.checkedout() == 0


def test_every_module_streams_its_csv_export_and_gives_the_connection_back(client, admin_headers, small_pool,
                                                                            some_customers):
    for spec in SPECS:
        for _ in range(3):  # more exports than the pool has connections
            response = client.get(f"/api/v1/{spec.key}/export?format=csv", headers=admin_headers)
            assert response.status_code == 200, (spec.key, response.get_data(as_text=True)[:200])
            assert response.get_data().startswith("\ufeff".encode())
            assert small_pool.checkedout() == 0, spec.key


def test_the_screen_export_gives_the_connection_back(client, small_pool, some_customers):
    web_login(client)
    for _ in range(5):
        response = client.get("/customer/export/?format=csv")
        text = response.get_data(as_text=True)
        assert response.status_code == 200 and text.startswith("\ufeff") and text.count("\n") == 4  # header+3
        assert small_pool.checkedout() == 0


def test_a_client_that_goes_away_mid_stream_gives_the_connection_back(app, client, admin_headers, small_pool):
    with app.app_context():
        seller = f.employee("大客户")
        db.session.add_all([f.Customer(company_name=f"公司{i}", mobile=str(13600000000 + i), owner_id=seller.id)
                            for i in range(1200)])
        db.session.commit()
        db.session.remove()
    for _ in range(4):
        response = client.get("/api/v1/customer/export?format=csv", headers=admin_headers, buffered=False)
        chunks = iter(response.response)
        next(chunks)  # the BOM
        next(chunks)  # the first 500 rows: the query is open now
        assert small_pool.checkedout() == 1
        response.close()  # what the WSGI server does when the client disconnects
        assert small_pool.checkedout() == 0
