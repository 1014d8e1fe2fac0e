"""A real server (run.py, waitress) on its own SQLite database and Debian's chromium driven by Playwright.

The server is started the way `make run` starts it: `flask crm init`, then `python run.py`.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.live import running_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update"]
ADMIN_PASSWORD = "e2e-admin-pass"
SCREENSHOTS = ROOT / "screenshots"
SERVER_ENV: dict = {}  # the live server's settings, for commands run against its database


@pytest.fixture(scope="session")
def live_server():
    workdir = tempfile.mkdtemp(prefix="crm-e2e-")
    env = {**os.environ, "CRM_INSTANCE_DIR": workdir, "DATABASE_URL": f"sqlite:///{workdir}/e2e.db",
           "CRM_ADMIN_PASSWORD": ADMIN_PASSWORD, "SECRET_KEY": "e2e-secret-" + "k" * 40,
           "FAB_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    SERVER_ENV.update({k: env[k] for k in ("CRM_INSTANCE_DIR", "DATABASE_URL", "SECRET_KEY",
                                            "FAB_PASSWORD_HASH_METHOD")})
    flask = [sys.executable, "-m", "flask", "--app", "app", "crm"]
    subprocess.run(flask + ["init"], cwd=ROOT, env=env, check=True, capture_output=True)
    # the demo data first, as `make run` does: it loads only into an empty database, and the modules that use
    # it must not depend on which browser test ran before them
    subprocess.run(flask + ["demo-data"], cwd=ROOT, env=env, check=True, capture_output=True)
    with running_server(env, Path(workdir) / "server.log", timeout=30) as url:
        yield url


@pytest.fixture
def demo(live_server):
    """The live server with the demo data of `make run` (loaded before it started)."""
    return live_server


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is required for the browser tests: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# every document reports a Content-Security-Policy violation (a blocked inline script or handler, a javascript:
# link, a foreign resource) to the console, where `new_page` collects it
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', function (e) {
  var line = 'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' +
             (e.sourceFile || document.location.pathname) + ':' + e.lineNumber + ' (' + (e.sample || '') + ')';
  (window.__crmCsp = window.__crmCsp || []).push(line);
  console.error(line);
});"""


@pytest.fixture
def new_page(browser):
    """A fresh browser context and page; with check_csp (the default) the test fails when the browser reported
    a CSP violation on any page it opened."""
    contexts, checked = [], []

    def make(locale="zh-CN", check_csp=True):
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        page = context.new_page()
        page.crm_csp = []
        page.on("console", lambda message: message.text.startswith("CSP violation")
                and page.crm_csp.append(f"{page.url}: {message.text}"))
        if check_csp:
            checked.append(page)
        return page

    yield make
    violations = [line for page in checked for line in page.crm_csp]
    for context in contexts:
        context.close()
    assert violations == [], "the browser reported CSP violations:\n" + "\n".join(violations)


def csp_report(page) -> list:
    """The CSP violations the browser reported on this page so far (every document it showed)."""
    return list(page.crm_csp)


def goto(page, url):
    """page.goto after the page has settled. Under load the redirect that follows a form's POST can still be
    arriving when the next goto starts, and Chromium aborts the goto (net::ERR_ABORTED): once, it is asked again."""
    page.wait_for_load_state("networkidle")
    try:
        return page.goto(url)
    except Exception as error:  # playwright's Error
        if "ERR_ABORTED" not in str(error):
            raise
        page.wait_for_load_state("networkidle")
        return page.goto(url)


def login(page, base_url, username, password):
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")
    page.wait_for_load_state()


def screenshot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def pick(page, select_css, typed, choose=None):
    """Choose in a typed picker (select2 asking the server, views/widgets.py): open it, type, click the match."""
    page.click(f"{select_css} + .select2 .select2-selection")
    type_in_picker(page, typed)
    option = page.locator(".select2-container--open .select2-results__option", has_text=choose or typed).first
    option.wait_for(state="visible")
    option.click()


def type_in_picker(page, typed):
    """Type into the open picker's search box (focused by hand: select2 may still be opening)."""
    search = page.locator(".select2-container--open .select2-search__field")
    search.click()
    search.press_sequentially(typed)
