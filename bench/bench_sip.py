"""50 simultaneous callbacks (双呼) through Kamailio with SIPp phones, end to end into the CRM.

    python bench/bench_sip.py                       # 50 calls, SQLite
    python bench/bench_sip.py --calls 100 --database-url postgresql://postgres@127.0.0.1:5432/crm_bench_sip

Real processes on loopback, as in tests/telephony: Kamailio (the trunk), the gateway (`flask crm sip-gateway`),
the CRM (run.py, waitress) and SIPp phones: one SIPp process answers all the agents (each seat's bound
mobile), three play the customers: 60 % answer and hang up after --talk-ms, 20 % are busy (486), 20 % never
answer (the gateway cancels after its customer ring timeout). All calls are asked for at once through the
provider (one thread each). It reports:
- originate: the provider's HTTP round trip to the gateway (it answers at once with the call id);
- setup: the agent's INVITE -> both legs bridged (the ACK to the agent), as the gateway measured it, for the
  answered calls; minus the phones' scripted ringing (2 x --ring-ms), the signalling and scheduling cost;
- that every call record ends with the disposition its customer's phone was scripted for, each event once.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.telephony import harness  # noqa: E402


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--ring-ms", type=int, default=100, help="how long each phone rings before answering")
    parser.add_argument("--talk-ms", type=int, default=2000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    args = parser.parse_args()
    harness.require_sip_tools()

    workdir = harness.scratch_dir("crm-bench-sip-")
    env = harness.base_env(workdir, args.database_url)
    os.environ.update({k: env[k] for k in ("CRM_INSTANCE_DIR", "SECRET_KEY", "DATABASE_URL", "CALL_WEBHOOK_SECRET",
                                           "SIP_GATEWAY_TOKEN", "FAB_PASSWORD_HASH_METHOD")})
    load_before = os.getloadavg()
    started = []
    try:
        crm = harness.CrmServer(workdir, env)
        crm.init_database()
        started.append(crm.start())
        kamailio = harness.Kamailio(workdir).start()
        started.append(kamailio)
        gateway = harness.Gateway(workdir, kamailio, env, crm.url + "/api/v1/call/events/sip_callback",
                                  agent_ring=10, customer_ring=3).start()
        started.append(gateway)
        return run(args, workdir, kamailio, gateway, started, load_before)
    finally:
        for process in reversed(started):
            process.stop()


def run(args, workdir, kamailio, gateway, started, load_before) -> int:
    from app import create_app
    from app.extensions import db
    from app.sipgw.provider import SipCallbackProvider
    from config import Config
    from models.call import CallEvent, CallRecord, Seat
    from models.mixins import utcnow
    from tests import factories
    import datetime as dt
    from sqlalchemy import select

    app = create_app(Config)
    app.config.update(SIP_GATEWAY_URL=gateway.url)
    n = args.calls
    talkers, busy = int(n * 0.6), int(n * 0.2)
    expected = ["answered"] * talkers + ["busy"] * busy + ["no_answer"] * (n - talkers - busy)
    with app.app_context():
        seats = []
        for index in range(n):
            person = factories.employee(name=f"坐席员工{index}")
            seat = Seat(name="坐席", number=f"9{index:05d}", provider="sip_callback", display_line="01088886666",
                        bound_mobile=harness.next_agent_number(), bound_at=utcnow(), employee_id=person.id,
                        status="active", expires_at=utcnow() + dt.timedelta(days=30))
            db.session.add(seat)
            seats.append(seat)
        db.session.commit()
        customers = [harness.next_customer_number() for _ in range(n)]
        phones = [
            harness.Phone(kamailio, workdir, [s.bound_mobile for s in seats], "answer", calls=n,
                          ring_ms=args.ring_ms),
            harness.Phone(kamailio, workdir, customers[:talkers], "hangup", calls=talkers, ring_ms=args.ring_ms,
                          talk_ms=args.talk_ms),
            harness.Phone(kamailio, workdir, customers[talkers:talkers + busy], "busy", calls=busy),
            harness.Phone(kamailio, workdir, customers[talkers + busy:], "noanswer", calls=n - talkers - busy),
        ]
        for phone in phones:
            started.append(phone)
            phone.start()
        provider = SipCallbackProvider()
        seat_rows = [(s.id, s) for s in seats]

        def originate(index):
            with app.app_context():
                seat = db.session.get(Seat, seat_rows[index][0])
                began = time.perf_counter()
                call_id = provider.originate(seat, customers[index]).provider_call_id
                return call_id, (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=n) as pool:
            answers = list(pool.map(originate, range(n)))
        call_ids = [call_id for call_id, _ in answers]
        statuses = [phone.wait(120) for phone in phones]

        def all_ended():
            db.session.rollback()
            records = {r.provider_call_id: r for r in db.session.scalars(
                select(CallRecord).where(CallRecord.provider_call_id.in_(call_ids)))}
            return len(records) == n and all(r.state == "ended" for r in records.values()) and records

        records = harness.wait_until(all_ended, 60, "every call record to end")
        wall = time.perf_counter() - began
        setups = []
        for call_id in call_ids[:talkers]:
            payload = db.session.scalar(select(CallEvent.payload).where(CallEvent.provider_call_id == call_id,
                                                                        CallEvent.event == "answered"))
            setups.append(json.loads(payload)["setup_ms"])
        got = [records[c].disposition for c in call_ids]
        duplicates = db.session.execute(
            select(CallEvent.event_id).where(CallEvent.provider_call_id.in_(call_ids))
            .group_by(CallEvent.event_id).having(db.func.count() > 1)).all()
        talk_ok = all(records[c].talk_seconds >= 1 for c in call_ids[:talkers])

    originate_ms = [ms for _, ms in answers]
    wrong = sum(1 for a, b in zip(got, expected) if a != b)
    print(f"calls: {n} at once ({talkers} answered, {busy} busy, {n - talkers - busy} no answer); "
          f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}")
    print(f"originate (provider -> gateway HTTP): median {statistics.median(originate_ms):.0f} ms, "
          f"p95 {percentile(originate_ms, 0.95):.0f} ms")
    print(f"setup INVITE -> bridged ({len(setups)} answered calls): median {statistics.median(setups):.0f} ms, "
          f"p95 {percentile(setups, 0.95):.0f} ms; scripted ringing {2 * args.ring_ms} ms of it")
    print(f"dispositions: {n - wrong}/{n} as scripted; talk time >= 1 s on every answered call: {talk_ok}; "
          f"duplicate events: {len(duplicates)}; SIPp phones' exit codes: {statuses}")
    print(f"all {n} records ended {wall:.1f} s after the first originate")
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f}; after: "
          f"{os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} ({os.cpu_count()} cores)")
    return 0 if wrong == 0 and not duplicates and talk_ok and not any(statuses) else 1


if __name__ == "__main__":
    sys.exit(main())
