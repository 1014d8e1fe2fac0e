"""The recycle bin on a seeded database (bench/seed.py): the bin's screen and API, and a delete + restore round
trip of one customer, as the administrator through the test client (login session / bearer token).

    DATABASE_URL=sqlite:////tmp/crm-bench.db python bench/bench_recycle.py [--bin 1000]

--bin N first moves N customers into the bin (each its own batch, through app/recycle.move_to_bin) when the bin
holds fewer. Figures: median and p90 of --runs runs after two warm-ups.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("FAB_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
sys.path.insert(1, str(Path(__file__).resolve().parent))  # bench/benchapp.py

from benchapp import timed  # noqa: E402

ADMIN_PASSWORD = "bench-admin-1"


def _fill(app, wanted: int) -> int:
    from sqlalchemy import func, select

    from app import recycle
    from app.extensions import db
    from models.crm import Customer

    with app.app_context():
        table = Customer.__table__
        have = db.session.scalar(select(func.count()).select_from(table).where(table.c.deleted_at.isnot(None)))
        ids = db.session.scalars(select(Customer.id).where(Customer.owner_id.isnot(None)).order_by(Customer.id)
                                 .limit(max(0, wanted - have))).all()
        for pk in ids:
            recycle.move_to_bin(db.session.get(Customer, pk), None)
        db.session.commit()
        return have + len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--bin", type=int, default=1000)
    args = parser.parse_args()
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from models.crm import Customer

    app = create_app()
    app.config["WTF_CSRF_ENABLED"] = False
    binned = _fill(app, args.bin)
    client = app.test_client()
    client.post("/login/", data={"username": "admin", "password": ADMIN_PASSWORD})
    token = client.post("/api/v1/security/login", json={"username": "admin", "password": ADMIN_PASSWORD,
                                                        "provider": "db"}).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        pk = db.session.scalar(select(Customer.id).where(Customer.owner_id.isnot(None)).order_by(Customer.id.desc()))

    def get(url, **kw):
        def run():
            response = client.get(url, **kw)
            assert response.status_code == 200, response.status_code
        return run

    def round_trip():
        assert client.delete(f"/api/v1/customer/{pk}", headers=headers).status_code == 200
        answer = client.post(f"/api/v1/customer/{pk}/restore", headers=headers)
        assert answer.status_code == 200, answer.get_json()

    cases = {
        "screen: 回收站 first page": get("/recycle_bin/list/"),
        "screen: 回收站 客户 only": get("/recycle_bin/list/?module=customer"),
        "api: recycle_bin first page": get("/api/v1/recycle_bin/", headers=headers),
        "api: delete + restore a customer": round_trip,
    }
    print(f"database: {os.environ.get('DATABASE_URL', 'default sqlite')}; {binned} customers in the bin")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    for label, fn in cases.items():
        median, p90 = timed(fn, args.runs)
        print(f"  {label:34s} {median:8.1f} ms  p90 {p90:8.1f} ms (of {args.runs})")


if __name__ == "__main__":
    main()
