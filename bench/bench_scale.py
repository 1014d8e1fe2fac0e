"""Customer list, search, sort, deep page and forms at 100,000 and 1,000,000 customers, over HTTP (issue 11).

    DATABASE_URL=sqlite:////work/benchdata/crm_scale_1m.db python bench/seed.py --customers 1000000
    DATABASE_URL=sqlite:////work/benchdata/crm_scale_1m.db python bench/bench_scale.py
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/crm_scale_1m python bench/bench_scale.py --cases first,deep

On a database seeded by bench/seed.py (2,000 employees in a department tree, the two viewers below), it starts
the real server (`python run.py`, waitress, as tests/live.py's running_server() does) and, logged in as each
viewer (a screen session with its CSRF-checked login form, and an API token), times every case --runs times after
two warm-ups, one request at a time, and prints the median and p90 in ms as a Markdown table:

    first    the list's first page              screen /customer/list/              API /api/v1/customer/
    search   the search box (--name)            ?_flt_0_company_name=…              filter kw_customer
    sort     最后跟进时间, newest first           ?_oc_…=last_followup_at&_od_…=desc  order_column last_followup_at
    deep     a deep page                        the last page the screen offers     page 10,000 (offset 500,000)
    cursor   the same depth by cursor           (none: the screen offers 200 pages)  ?cursor=<next_cursor of page 9,999>
    add      the add-customer form               /customer/add                       _info (add_columns)
    edit     the edit form of a visible customer /customer/edit/<id>                 _info (edit_columns)

Viewers: admin (全部), 17800000001 (销售主管, 本人及下属: a 部 head) and 17800000002 (本部门及下属部门: a 大区 head).
The notes column says how many employees a screen page embeds as <option>s (it should be none: the pickers
ask the server as one types) and how many bytes the page had; a case that does not answer 200 shows its status.
"""
from __future__ import annotations

import argparse
import html
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import prison

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import ADMIN_PASSWORD, DEPARTMENT_TREE_LOGIN, PASSWORD, SUBORDINATES_LOGIN  # noqa: E402

VIEWERS = {"admin": ("admin", ADMIN_PASSWORD), "本人及下属": (SUBORDINATES_LOGIN, PASSWORD),
           "本部门及下属部门": (DEPARTMENT_TREE_LOGIN, PASSWORD)}
CASES = ("first", "search", "sort", "deep", "cursor", "add", "edit")
CASE_LABELS = {"first": "first page", "search": "name search", "sort": "sort 最后跟进时间 desc", "deep": "deep page", "cursor": "deep page by cursor",
               "add": "add form (2,000 employees)", "edit": "edit form (2,000 employees)"}
API_DEEP_PAGE = 10_000  # × 50 = offset 500,000
EMPLOYEE_OPTION = re.compile(r"<option[^>]*>\s*员工\d{4}")


class Client:
    """One user's HTTP session with the server: cookies for the screens, a bearer token for the API."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = None

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=300) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def api(self, path: str) -> tuple[int, bytes]:
        return self.request(path, headers={"Authorization": f"Bearer {self.token}"})

    def login(self, username: str, password: str) -> None:
        _status, page = self.request("/login/")
        csrf = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        form = {"username": username, "password": password, **({"csrf_token": csrf.group(1).decode()} if csrf else {})}
        status, page = self.request("/login/", urllib.parse.urlencode(form).encode())
        status, page = self.request("/customer/list/")
        if status != 200 or b"crm-record-count" not in page:
            raise SystemExit(f"the screen login of {username} failed ({status})")
        status, body = self.request("/api/v1/security/login", json.dumps(
            {"username": username, "password": password, "provider": "db"}).encode(),
            {"Content-Type": "application/json"})
        if status != 200:
            raise SystemExit(f"the API login of {username} failed ({status}): {body[:200]!r}")
        self.token = json.loads(body)["access_token"]


def _q(**args) -> str:
    return "?q=" + urllib.parse.quote(prison.dumps(args))


def plan(client: Client, name: str, cases=()) -> dict:
    """case -> (screen path, API path) for this viewer (the deep screen page and the record to edit are theirs)."""
    kw = urllib.parse.quote(name)
    _status, first = client.request("/customer/list/")
    pages = [int(p) for p in re.findall(rb"page_CustomerView=(\d+)", first)]
    last = max(pages) if pages else 0
    _status, body = client.api("/api/v1/customer/" + _q(page_size=1, order_column="id", order_direction="desc"))
    ids = json.loads(body).get("ids") or [None]
    cursor = ""
    if "cursor" in cases:  # where page 9,999 stopped, read once (by offset), then timed by cursor
        _status, body = client.api("/api/v1/customer/" + _q(page=API_DEEP_PAGE - 1, page_size=50))
        cursor = urllib.parse.quote(json.loads(body).get("next_cursor") or "")
    return {
        "first": ("/customer/list/", "/api/v1/customer/"),
        "cursor": (None, f"/api/v1/customer/?cursor={cursor}&q=" + urllib.parse.quote(prison.dumps({"page_size": 50}))),
        "search": (f"/customer/list/?_flt_0_company_name={kw}",
                   "/api/v1/customer/" + _q(filters=[{"col": "company_name", "opr": "kw_customer", "value": name}])),
        "sort": ("/customer/list/?_oc_CustomerView=last_followup_at&_od_CustomerView=desc",
                 "/api/v1/customer/" + _q(order_column="last_followup_at", order_direction="desc")),
        "deep": (f"/customer/list/?page_CustomerView={last}", "/api/v1/customer/" + _q(page=API_DEEP_PAGE, page_size=50)),
        "add": ("/customer/add", "/api/v1/customer/_info" + _q(keys=["add_columns"])),
        "edit": (f"/customer/edit/{ids[0]}", "/api/v1/customer/_info" + _q(keys=["edit_columns"])),
    }


def timed(fn, runs: int) -> tuple[float, float, int, bytes]:
    """(median ms, p90 ms, last status, last body) of `runs` calls after two warm-ups."""
    for _ in range(2):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        status, body = fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, round(len(samples) * 0.9) - 1)], status, body


def measure(base: str, cases: list[str], viewers: list[str], runs: int, name: str) -> list[dict]:
    rows = []
    for viewer in viewers:
        client = Client(base)
        client.login(*VIEWERS[viewer])
        paths = plan(client, name, cases)
        for case in cases:
            screen_path, api_path = paths[case]
            for surface, path, fn in (("screen", screen_path, lambda p=screen_path: client.request(p)),
                                      ("API", api_path, lambda p=api_path: client.api(p))):
                if path is None:
                    continue
                median, p90, status, body = timed(fn, runs)
                note = f"{len(body) / 1024:.0f} KB"
                if surface == "screen":
                    note += f", {len(EMPLOYEE_OPTION.findall(body.decode('utf-8', 'replace')))} employee <option>s"
                    if case == "deep":
                        note += f", page {path.rsplit('=', 1)[1]}"
                elif status == 200 and case in ("first", "search", "sort", "deep", "cursor"):
                    result = json.loads(body)
                    note += f", {len(result.get('ids') or [])} rows, count {result.get('count')}"
                elif status == 200 and case in ("add", "edit"):
                    owner = next((c for c in json.loads(body).get(f"{case}_columns", []) if c["name"] == "owner"), {})
                    note += f", owner values listed: {len(owner.get('values') or [])}"
                elif status != 200:
                    note += ", " + html.unescape(body[:120].decode("utf-8", "replace")).replace("|", "/").replace(
                        "\n", " ")
                rows.append({"case": case, "surface": surface, "viewer": viewer, "median": median, "p90": p90,
                             "status": status, "note": note})
                print(f"  {viewer:8s} {surface:6s} {CASE_LABELS[case]:28s} {median:8.1f} ms  p90 {p90:8.1f} ms"
                      f"  [{status}] {note}", file=sys.stderr, flush=True)
    return rows


def table(rows: list[dict], viewers: list[str], title: str) -> str:
    head = "| case | surface | " + " | ".join(f"{v} median / p90 ms" for v in viewers) + " | notes (admin) |"
    lines = [title, "", head, "|" + "---|" * (len(viewers) + 3)]
    keys = list(dict.fromkeys((r["case"], r["surface"]) for r in rows))
    for case, surface in keys:
        cells, note = [], ""
        for viewer in viewers:
            row = next((r for r in rows if (r["case"], r["surface"], r["viewer"]) == (case, surface, viewer)), None)
            if row is None:
                cells.append("")
                continue
            cell = f"{row['median']:.0f} / {row['p90']:.0f}"
            cells.append(cell if row["status"] == 200 else f"{cell} ({row['status']})")
            note = note or row["note"]
        lines.append(f"| {CASE_LABELS[case]} | {surface} | " + " | ".join(cells) + f" | {note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--viewers", default=",".join(VIEWERS), help="comma-separated, of " + ", ".join(VIEWERS))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--name", default="054321有限", help="the search box's text (one company at 100k and 1M)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads of the server")
    parser.add_argument("--url", help="measure a server already running there instead of starting one")
    args = parser.parse_args()
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    viewers = [v.strip() for v in args.viewers.split(",") if v.strip()]
    unknown = [c for c in cases if c not in CASES] + [v for v in viewers if v not in VIEWERS]
    if unknown:
        parser.error(f"unknown case or viewer: {', '.join(unknown)}")
    url = os.environ.get("DATABASE_URL", "")
    load = os.getloadavg()
    if args.url:
        rows = measure(args.url.rstrip("/"), cases, viewers, args.runs, args.name)
    else:
        from tests.live import running_server

        env = {**os.environ, "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
               "CRM_INSTANCE_DIR": os.environ.get("CRM_INSTANCE_DIR") or tempfile.mkdtemp(prefix="crm-bench-scale-"),
               "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-scale-" + "k" * 40}
        log = Path(tempfile.mkdtemp(prefix="crm-bench-scale-")) / "server.log"
        with running_server(env, log, args=("--threads", str(args.threads)), timeout=120) as base:
            rows = measure(base, cases, viewers, args.runs, args.name)
    after = os.getloadavg()
    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    title = (f"{backend} `{url.rsplit('/', 1)[-1]}`, {args.runs} runs, load average {load[0]:.2f} before / "
             f"{after[0]:.2f} after")
    print(table(rows, viewers, title))


if __name__ == "__main__":
    main()
