"""Browser tests: Playwright (sync API) drives Debian's Chromium against `live_server`.

Playwright never downloads a browser here: the tests use /usr/bin/chromium
(`make browser-deps` installs it). Without it they fail, they do not skip.

Every page is a phone (390x844, touch) asking for Chinese, like most members.
A failed test leaves a screenshot in test-artifacts/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

# Playwright's sync API runs an event loop in the test thread, so Django's
# async-safety check would refuse the ORM calls tests make between steps.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Playwright's default is 30 s; a local live server answers in milliseconds,
# so a failing expectation should not hold the suite for half a minute.
TIMEOUT_MS = 5_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so that `page` knows at
    # teardown whether the test failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests need Debian's Chromium at {CHROMIUM}, which is missing. "
            "Install it with `make browser-deps` (or `sudo apt-get install chromium fonts-noto-cjk`). "
            "Do not run `playwright install`: these tests use the system browser.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploads go to a temporary folder; the live server serves MEDIA_URL from it."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ERHUO_PRIVATE_MEDIA_ROOT = tmp_path / "private-media"
    return settings.MEDIA_ROOT


@pytest.fixture
def page(request, browser, live_server, media_root):
    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(base_url=live_server.url, **PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as error:  # The page may have crashed: the test's own failure matters more.
            print(f"Could not save a failure screenshot: {error}")
    context.close()


@pytest.fixture
def login(page):
    """Log in through the login form, as a person would."""

    def login(username: str, password: str) -> None:
        page.goto("/accounts/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.locator("#main form button[type=submit]").tap()
        page.wait_for_url("**/accounts/me/")

    return login


@pytest.fixture
def open_page(request, browser, live_server, media_root):
    """For journeys of several people: `open_page(name)` gives a fresh phone browser (own cookies).

    Each leaves a screenshot in test-artifacts/ if the test fails. Timeouts are twice `page`'s: on a
    loaded machine (other suites in parallel) a first page can take longer than TIMEOUT_MS.
    """
    opened = []
    expect.set_options(timeout=2 * TIMEOUT_MS)
    journey = request.module.__name__.rpartition(".")[2].removeprefix("test_").replace("_", "-")

    def open_page(name: str):
        context = browser.new_context(base_url=live_server.url, **PHONE)
        context.set_default_timeout(2 * TIMEOUT_MS)
        context.set_default_navigation_timeout(4 * TIMEOUT_MS)
        opened.append((name, context))
        return context.new_page()

    yield open_page
    report = getattr(request.node, "report_call", None)
    for name, context in opened:
        if report is not None and report.failed and context.pages:
            ARTIFACTS.mkdir(exist_ok=True)
            try:
                context.pages[0].screenshot(path=str(ARTIFACTS / f"{journey}-{name}.png"), full_page=True)
            except Exception as error:  # The test's own failure matters more.
                print(f"Could not save a failure screenshot of {name}: {error}")
        context.close()
