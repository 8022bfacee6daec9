"""A real browser for the web dashboard's tests: Debian's `chromium`, headless, driven by Selenium
through Debian's `chromedriver` (both installed by .ci/run; without them, or without the
`selenium` package, a test that asks for `browser` is skipped, saying which is missing).

    async def test_something(browser):
        await browser.open(url)
        assert "Partners" in await browser.text()
        await browser.screenshot("partners")

Every call is awaited: Selenium blocks, so each call runs in a thread, and the test's event loop
(which serves the page under test, e.g. an aiohttp app on loopback) keeps answering meanwhile.

One browser per test (a fresh profile: no cookies, storage or cache from another test). It
starts in about 0.6–0.9 s and a page on loopback opens in under 0.3 s, so sharing one browser
across tests would save little and cost the isolation.

Status codes: WebDriver has none; `status_of_last_page()` reads the page's own navigation
timing entry (`responseStatus`, Chromium 109+). A test of a 404 can also assert what the person
sees: the body text `text()` returns.

Screenshots go to test-screenshots/<backend>/<test>/<name>.png under the repository (git-ignored;
a test's folder is emptied when it starts); the run's summary says where they are. A failing
test's last page is saved as `failed.png` there too.
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-screenshots"  # git-ignored
# Root in a container: no sandbox; /dev/shm is small there; no GPU.
HEADLESS_FLAGS = ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,900"]
INSTALL_COMMAND = "install Debian's chromium and chromium-driver, as .ci/run does"

_saved_key = pytest.StashKey[list]()  # every screenshot saved in this run
_call_report_key = pytest.StashKey[pytest.TestReport]()


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def unavailable() -> str | None:
    """Why no browser can run here, or None when one can."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[test]'): browser tests SKIPPED"
    if chromium_path() is None:
        return f"chromium is not on PATH ({INSTALL_COMMAND}): browser tests SKIPPED"
    if shutil.which("chromedriver") is None:
        return f"chromedriver is not on PATH ({INSTALL_COMMAND}): browser tests SKIPPED"
    return None


@dataclass(frozen=True)
class Element:
    """What a person sees of an element: its tag, text, attributes and drawn size (CSS pixels)."""
    tag: str
    text: str
    attributes: dict[str, str]
    width: float
    height: float


# One script for find_all: plain values back, so no WebElement (and no blocking call) escapes.
_FIND_ALL = """
return Array.from(document.querySelectorAll(arguments[0]), e => {
  const box = e.getBoundingClientRect();
  return {tag: e.tagName.toLowerCase(), text: e.innerText ?? e.textContent ?? "",
          attributes: Object.fromEntries(Array.from(e.attributes, a => [a.name, a.value])),
          width: box.width, height: box.height};
});
"""
_STATUS = """
const entry = performance.getEntriesByType("navigation")[0];
return entry ? entry.responseStatus : null;
"""


class Browser:
    def __init__(self, driver, folder: Path, saved: list[Path]):
        self._driver = driver
        self.folder = folder  # this test's screenshots
        self._saved = saved
        self.startup_seconds = 0.0  # how long the browser took to start
        self.timings: list[tuple[str, float]] = []  # (url, seconds) of every open()

    async def _run(self, call, *args):
        return await asyncio.to_thread(call, *args)

    async def open(self, url: str) -> None:
        """Load `url` and wait for its load event (WebDriver's default page load strategy)."""
        started = time.monotonic()
        await self._run(self._driver.get, url)
        self.timings.append((url, time.monotonic() - started))

    async def url(self) -> str:
        return await self._run(lambda: self._driver.current_url)

    async def title(self) -> str:
        return await self._run(lambda: self._driver.title)

    async def text(self) -> str:
        """The page's visible text, as a person would select it all and copy it."""
        return await self._run(self._driver.execute_script, "return document.body ? document.body.innerText : ''")

    async def find_all(self, css: str) -> list[Element]:
        found = await self._run(self._driver.execute_script, _FIND_ALL, css)
        return [Element(**each) for each in found]

    async def svg_count(self) -> int:
        """How many <svg> elements the page draws (with a non-empty box)."""
        return sum(1 for svg in await self.find_all("svg") if svg.width > 0 and svg.height > 0)

    async def cookies(self) -> dict[str, dict]:
        """The browser's cookies for the current page, by name: value, httpOnly, secure, sameSite…"""
        return {cookie["name"]: cookie for cookie in await self._run(self._driver.get_cookies)}

    async def status_of_last_page(self) -> int | None:
        """The HTTP status of the page last opened (None for a page not loaded over HTTP)."""
        status = await self._run(self._driver.execute_script, _STATUS)
        return status or None

    async def screenshot(self, name: str) -> Path:
        """Save the visible page as <name>.png in this test's folder; return its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{_safe(name)}.png"
        if not await self._run(self._driver.save_screenshot, str(path)):
            raise AssertionError(f"the browser could not save a screenshot to {path}")
        self._saved.append(path)
        return path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.")[:120] or "page"


def _start_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_path()
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    # Both paths given, so Selenium Manager (which would download a driver) never runs.
    return webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)


@pytest.fixture
async def browser(request):
    """Headless Chromium, one per test (see the module's doc)."""
    why_not = unavailable()
    if why_not:
        pytest.skip(why_not)
    backend = os.environ.get("PARTNERBOT_TEST_BACKEND", "sqlite")  # the two CI passes run side by side
    folder = SCREENSHOTS / backend / _safe(request.node.nodeid.replace("::", "__").replace("/", "."))
    shutil.rmtree(folder, ignore_errors=True)
    started = time.monotonic()
    driver = await asyncio.to_thread(_start_driver)
    page = Browser(driver, folder, request.config.stash.setdefault(_saved_key, []))
    page.startup_seconds = time.monotonic() - started
    try:
        yield page
        report = request.node.stash.get(_call_report_key, None)
        if report is not None and report.failed:
            await page.screenshot("failed")
    finally:
        await asyncio.to_thread(driver.quit)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    # Keep the test's own outcome, so the fixture's teardown can save the failing page.
    report = yield
    if report.when == "call":
        item.stash[_call_report_key] = report
    return report


def pytest_terminal_summary(terminalreporter, config):
    saved = config.stash.get(_saved_key, [])
    if saved:
        folders = sorted({str(path.parent.parent) for path in saved})
        terminalreporter.write_line(f"browser screenshots: {len(saved)} PNG(s) under {', '.join(folders)}")
