"""数据中心 in the browser: the administrator opens 员工通话统计 from the top menu, picks a date range, sees the
charts drawn (canvases with content), the table under them, and downloads the .xlsx of what is shown."""
import datetime as dt
import sqlite3

import openpyxl
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD, SERVER_ENV, login, screenshot

pytestmark = pytest.mark.e2e

# a canvas has content when some of its pixels are neither transparent nor white
CANVAS_INK = """el => {
  const canvas = el.querySelector('canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) ink++;
  }
  return ink;
}"""


def _seed_calls(base_url, page):
    """Two employees of a new department, with calls in March 2026 written straight into the server's
    database (the call records come from the telephony providers, not from a form)."""
    token = page.request.post(base_url + "/api/v1/security/login",
                              data={"username": "admin", "password": ADMIN_PASSWORD, "provider": "db"}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    department = page.request.post(base_url + "/api/v1/department/", data={"name": "统计演示部"},
                                   headers=headers).json()
    people = []
    for n, name in enumerate(("张三", "李四")):
        answer = page.request.post(base_url + "/api/v1/employee/", headers=headers, data={
            "name": name, "mobile": f"1360000010{n}", "password": "test1234", "department": department["id"]})
        assert answer.ok, answer.text()
        people.append(answer.json()["id"])
    database = SERVER_ENV["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        rows = []
        for day in range(1, 32):
            for k in range(day % 4 + 1):
                owner = people[k % 2]
                at = dt.datetime(2026, 2, 28, 16) + dt.timedelta(days=day - 1, hours=k)
                answered = k % 3 != 2
                rows.append(("e2e", f"e2e-{day}-{k}", owner, department["id"], at.strftime("%Y-%m-%d %H:%M:%S.%f"), "ended",
                             "answered" if answered else "busy", 30 * (k + 1) if answered else 0))
        conn.executemany("INSERT INTO call_record (provider, provider_call_id, owner_id, department_id, created_at, "
                         "state, disposition, talk_seconds, ring_seconds, mode, direction) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 3, 'device', 'outbound')", rows)
        # and a sales funnel: opportunities at four stages, one contract signed
        stamp = "2026-03-10 02:00:00.000000"
        customer = conn.execute("INSERT INTO customer (company_name, owner_id, department_id, created_at, updated_at) "
                                "VALUES ('漏斗客户', ?, ?, ?, ?)", (people[0], department["id"], stamp, stamp)).lastrowid
        stages = [r[0] for r in conn.execute("SELECT id FROM choice WHERE kind = 'opportunity_stage' "
                                             "ORDER BY sort_order")]
        conn.executemany("INSERT INTO opportunity (customer_id, name, amount, stage_id, owner_id, department_id, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [(customer, f"商机{n}", 1000 * (n + 1), stages[min(n // 3, 3)], people[n % 2], department["id"],
                           stamp, stamp) for n in range(10)])
        conn.execute("INSERT INTO contract (customer_id, number, name, amount, signed_on, owner_id, department_id, "
                     "created_at, updated_at) VALUES (?, 'E2E-1', '演示合同', 8800, '2026-03-15', ?, ?, ?, ?)",
                     (customer, people[0], department["id"], stamp, stamp))
    return len(rows)


def test_admin_sees_the_call_charts_and_exports_them(live_server, new_page, tmp_path):
    page = new_page()
    login(page, live_server, "admin", ADMIN_PASSWORD)
    total = _seed_calls(live_server, page)

    page.click("text=数据中心")
    page.click("a:has-text('员工通话统计')")
    expect(page.locator("h3")).to_contain_text("员工通话统计")
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-03-31")
    page.click("#stats-apply")
    expect(page.locator("#table-main")).to_contain_text("张三")
    expect(page.locator("#table-main tfoot")).to_contain_text(str(total))
    for chart in ("#chart-series", "#chart-table", "#chart-dispositions"):
        page.wait_for_function(f"document.querySelector('{chart} canvas') !== null")
        assert page.locator(chart).evaluate(CANVAS_INK) > 500, chart
    screenshot(page, "stats-employee-calls")

    with page.expect_download() as download_info:
        page.click("#stats-export")
    path = tmp_path / "calls.xlsx"
    download_info.value.save_as(path)
    sheet = openpyxl.load_workbook(path).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    dialed = rows[2].index("拨打次数")
    assert rows[-1][0] == "合计" and rows[-1][dialed] == total
    names = {row[0] for row in rows[3:-1]}
    assert {"张三", "李四"} <= names

    # the department page says how it groups, and draws too
    page.click("#stats-pages a:has-text('部门通话统计')")
    expect(page.locator("#stats-note")).to_contain_text("当前所在部门")
    page.goto(live_server + "/stats/department_calls/?from=2026-03-01&to=2026-03-31")
    page.wait_for_function("document.querySelector('#chart-table canvas') !== null")
    assert page.locator("#chart-table").evaluate(CANVAS_INK) > 500
    expect(page.locator("#table-main")).to_contain_text("统计演示部")
    screenshot(page, "stats-department-calls")


def test_the_sales_funnel_and_the_ranking_draw(live_server, new_page):
    page = new_page()
    login(page, live_server, "admin", ADMIN_PASSWORD)
    page.goto(live_server + "/stats/employee_sales/?from=2026-03-01&to=2026-03-31")
    page.wait_for_function("document.querySelector('#chart-stages canvas') !== null")
    assert page.locator("#chart-stages").evaluate(CANVAS_INK) > 500
    expect(page.locator("#table-stages")).to_contain_text("初步接洽")
    expect(page.locator("#table-main tfoot")).to_contain_text("8800.0")
    screenshot(page, "stats-employee-sales")
    page.goto(live_server + "/stats/ranking/?from=2026-03-01&to=2026-03-31")
    page.wait_for_function("document.querySelector('#chart-table canvas') !== null")
    expect(page.locator("#table-main th").first).to_have_text("名次")
    page.select_option("#stats-rank-by", "talk_seconds")
    page.click("#stats-apply")
    expect(page.locator("#stats-rank-by")).to_have_value("talk_seconds")
    expect(page.locator("#table-main tbody tr").first).to_contain_text("李四")
    page.wait_for_function("document.querySelector('#chart-table canvas') !== null")
    screenshot(page, "stats-ranking")
