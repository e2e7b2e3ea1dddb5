"""A real browser for the clerk's pages: Debian's chromium driven by playwright (which cannot
download a browser of its own here; `make test` installs chromium). Screenshots go to
`out/screenshots/` (kept out of git) so that people can look at what the pages show."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("PEIXUN_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}     # the office's common screen
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def chromium():
    """One browser for the run; each test opens contexts of its own."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium",
                    pytrace=False)
    # Not `with sync_playwright()`: stopping its driver waits for the driver's exit through
    # eventlet's patched subprocess and never returns; the driver ends with the test run.
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
    yield browser
    browser.close()


def context_for(chromium, base_url: str, token: str | None = None, viewport=DESKTOP):
    """A browser context on the gateway; with `token`, every request carries it as a Bearer
    header (signed in the way systems are, for pages under test that are not about signing in).
    """
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return chromium.new_context(base_url=base_url, viewport=viewport, locale="zh-CN",
                                extra_http_headers=headers, accept_downloads=True)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def scan(page, member_no: str) -> str:
    """What a scanner does: the number typed into the focused field, then Enter; answers the
    check-in page's status line once the answer's page has loaded."""
    page.evaluate("window.scanned = true")        # gone once the answer's page has loaded
    page.keyboard.type(member_no)
    page.keyboard.press("Enter")
    # Polled from here: the page's policy forbids the script wait_for_function would run.
    for _attempt in range(200):
        try:
            if page.evaluate("window.scanned !== true && document.readyState === 'complete'"):
                return page.inner_text("[role=status]")
        except PlaywrightError:   # the page went away under the question: ask the next one
            pass
        page.wait_for_timeout(50)
    raise AssertionError(f"no answer to the scan of {member_no}")


def reload_until(page, path, text, attempts=80):
    """The page, reloaded until it shows `text` (the services hear of things a moment later)."""
    for _attempt in range(attempts):
        page.goto(path)
        if text in page.inner_text("main"):
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{path} never showed {text}")
