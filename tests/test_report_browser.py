"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) driven
by Playwright, never a downloaded browser. It must render with no console error,
fetch nothing but itself, and show a log's markup as text without running it.

Set-up is ``make test``'s (``apt-get install chromium``); a machine without it fails
here with the reason. ``CROWNWATCH_SKIP_BROWSER=1`` skips on purpose.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from crownwatch.findings import FindingStore
from crownwatch.incidents import run as run_incidents
from crownwatch.outputs.report import write_report
from tests.conftest import demo_findings

CHROMIUM = os.environ.get("CROWNWATCH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
HOSTILE_USER = "<img src=x onerror=alert(1)>"
HOSTILE_UA = "</script><script>alert(1)</script>"


def _browser_or_fail():
    if os.environ.get("CROWNWATCH_SKIP_BROWSER") == "1":
        pytest.skip("CROWNWATCH_SKIP_BROWSER=1")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: pip install -e '.[dev]' (make test does)")
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: apt-get install -y chromium (make test does), "
            "or set CROWNWATCH_CHROMIUM, or CROWNWATCH_SKIP_BROWSER=1 to skip on purpose"
        )
    return sync_playwright


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """The demo's findings and incidents (tests/fixtures/demo), plus a brute force
    against an account whose name is markup — what a hostile log can put in a finding."""
    tmp = tmp_path_factory.mktemp("report")
    root = tmp / "lake"
    hostile = {
        "id": "cw-hostile0000000001",
        "detection": "identity.brute_force",
        "title": f"Password guessing against {HOSTILE_USER}",
        "severity": "critical",
        "first_seen": "2026-03-04T13:00:00Z",
        "last_seen": "2026-03-04T13:20:00Z",
        "attack": ["T1110.001"],
        "entities": {"user": [HOSTILE_USER], "src_ip": ["203.0.113.250"]},
        "evidence": {"user_agents": [HOSTILE_UA], "raw_records": [f"okta.jsonl#{HOSTILE_USER}"]},
    }
    FindingStore(root).upsert([*demo_findings(), hostile])
    assert run_incidents(root)
    return write_report(root, tmp / "report.html")


def test_report_renders_offline_and_log_markup_stays_text(report):
    sync_playwright = _browser_or_fail()
    errors, requests, dialogs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))

            def on_dialog(d):
                dialogs.append(d.message)
                d.dismiss()

            page.on("dialog", on_dialog)
            page.goto(report.as_uri())
            page.wait_for_load_state("load")
            assert page.title().startswith("crownwatch report")
            assert page.locator("section.incident").count() >= 2
            # the hostile name is on the page as text, and nothing ran
            assert page.get_by_text(HOSTILE_USER).first.is_visible()
            assert page.locator("img").count() == 0
            assert page.locator("script").count() == 0
            page.locator("section.incident").first.screenshot(
                path=str(_artifact("report-first-incident.png"))
            )
        finally:
            browser.close()
    assert dialogs == [], f"a log value ran as script: {dialogs}"
    assert errors == [], errors
    assert requests == [report.as_uri()], requests


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    print(f"screenshot: {path}")
    return path
