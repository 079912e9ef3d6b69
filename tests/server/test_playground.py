"""The playground in a real headless browser: Debian's chromium driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


def test_typing_shows_a_ghost_suggestion_and_tab_accepts_it(browser, server) -> None:
    page = browser.new_page()
    foreign: list[str] = []
    page.on(
        "request", lambda req: None if req.url.startswith(server.url) else foreign.append(req.url)
    )
    page.goto(server.url + "/")
    assert page.title() == "llamapilot playground"
    page.click("#code")
    typed = "def add(a, b):\n    return"
    page.keyboard.type(typed)
    page.wait_for_selector("#ghost .tok", timeout=120_000)
    ghost = page.inner_text("#ghost")
    assert ghost.strip(), "an empty suggestion"
    # tokens are shaded by confidence: each carries its probability and a shade class
    probs = page.eval_on_selector_all("#ghost .tok", "els => els.map(e => parseFloat(e.dataset.p))")
    assert probs and all(0 < p <= 1 for p in probs)
    # the panel shows the exact prompt and its sources
    assert "def add(a, b):" in page.inner_text("#prompt")
    assert "prefix" in page.inner_text("#sources")
    page.keyboard.press("Tab")
    assert page.input_value("#code") == typed + ghost
    assert page.query_selector("#ghost") is None
    assert foreign == [], f"the page fetched from elsewhere: {foreign}"
    page.close()
