"""End to end in a real headless browser (Debian's chromium, driven by Selenium through the
system chromedriver): `monitor web` runs as a subprocess over a database filled through
the store; the overview draws its chart from the stored matches, a match is marked not
relevant on its page, and the Rules page shows the rule's precision change.

Skipped only when no browser is installed and CI is unset (`.ci/run` installs it).
Set MONITOR_UPDATE_SCREENSHOT=1 to write the overview to docs/overview.png.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import store
from monitor.store import Database
from tests.conftest import RULES_DIR
from tests.webdata import ARMS, fill

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parent.parent
# Without these, chromium on a machine with no internet hangs on its own network calls.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1150",
)
WAIT = 30  # seconds a page may take to get where the test expects it

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but there is no {CHROMIUM} or {CHROMEDRIVER}", pytrace=False)
    pytest.skip("no chromium/chromedriver installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402  (only once a browser is known to exist)
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webdriver import WebDriver  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Database]]:
    """`monitor web` on a free port over a filled SQLite database."""
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    db.upgrade()
    fill(db, today=datetime.now(UTC).date())  # the dashboard runs on the real clock
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "sqlite:///{tmp_path / "monitor.db"}"\n'
        f'rules_dir: "{RULES_DIR}"\nseeds_dir: "{RULES_DIR / "seeds"}"\n',
        encoding="utf-8",
    )
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "monitor", "--config", str(config)),
            "web",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert server.stdout is not None
    first = server.stdout.readline()  # printed once the socket listens
    try:
        assert first.startswith(f"dashboard on http://127.0.0.1:{port}"), first
        yield f"http://127.0.0.1:{port}", db
    finally:
        server.terminate()
        _, err = server.communicate(timeout=15)  # (closes the pipes)
        db.dispose()
    assert server.returncode == 0, err  # SIGTERM stops it cleanly


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def test_the_overview_chart_and_feedback_that_moves_precision(
    site: tuple[str, Database], browser: webdriver.Chrome, tmp_path: Path
) -> None:
    url, db = site
    stored = len(store.match_page(db, store.MatchFilter(), limit=10_000).rows)
    wait = WebDriverWait(browser, WAIT, ignored_exceptions=[StaleElementReferenceException])

    # The overview draws the chart (a canvas) from the stored matches
    browser.get(url + "/")
    chart = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#chart-rules[data-drawn="1"]'))
    assert chart.find_elements(By.TAG_NAME, "canvas")
    assert int(chart.get_attribute("data-total") or 0) == stored > 0
    assert int(chart.get_attribute("data-spikes") or 0) >= 1
    assert ARMS in chart.text  # its legend
    shot = tmp_path / "overview.png"
    browser.save_screenshot(str(shot))
    assert shot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("MONITOR_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "overview.png")

    # The rule's precision before: one match marked, relevant
    browser.get(url + "/rules")
    assert text_of(browser, f"precision-{ARMS}").startswith("100% (1 of 1)")

    # The matches page loads older matches in place (htmx), up to the last one
    browser.get(url + "/matches")
    assert len(browser.find_elements(By.CSS_SELECTOR, "tr.match")) == 50 < stored
    browser.find_element(By.CSS_SELECTOR, "#more-row a").click()
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr.match")) == stored)
    assert browser.current_url == url + "/matches"

    # A match is marked not relevant on its page (htmx swaps the answer in)
    browser.get(url + f"/matches?rule={ARMS}&feedback=unmarked")
    browser.find_element(By.CSS_SELECTOR, "a.title").click()
    wait.until(lambda d: d.find_element(By.ID, "mark-not-relevant")).click()
    wait.until(lambda d: "Marked not relevant" in text_of(d, "feedback"))

    # And the Rules page shows the precision change
    browser.get(url + "/rules")
    assert text_of(browser, f"precision-{ARMS}").startswith("50% (1 of 2)")
    logged = browser.get_log("browser")  # type: ignore[no-untyped-call]
    problems = [e["message"] for e in logged if e["level"] == "SEVERE"]
    assert problems == []  # no script error, no Content-Security-Policy refusal
