"""The web app in a real browser (headless chromium): a member signs in
with their key file, votes in a ballot of today, and sees the result
counted up the fractal; switching language changes the page; and the
page's cryptography passes the specs' vectors in the browser itself."""

from __future__ import annotations

import functools
import http.server
import json
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from node.keyfile import load_key_file
from node.loopback import AYLLU, child_env
from node.web.i18n import translations
from protocol.event import SignedEvent, parse_event

PROJECT = Path(__file__).resolve().parents[2]
#: Seconds the ballot of today stays open: time to sign in and vote.
OPEN_S = 30
#: Seconds any wait of these tests may take, at most.
TIMEOUT_S = 120


def _(lang: str, text: str) -> str:
    return str(translations(lang).gettext(text))


@dataclass
class Demo:
    web: str
    ballot: str
    key_file: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``ayllu demo --keep`` on 3 nodes, with a ballot of today; one for
    the module's tests, which leave its ballot to the voting test."""
    tmp_path = tmp_path_factory.mktemp("demo")
    args = ["demo", "--fanout", "2", "--levels", "2", "--keep", "--live-seconds", str(OPEN_S)]
    with (
        (tmp_path / "progress.log").open("w") as progress,
        subprocess.Popen(
            [*AYLLU, *args, "--dir", str(tmp_path / "demo")],
            stdout=subprocess.PIPE,
            stderr=progress,
            text=True,
            env=child_env(),
        ) as process,
    ):
        try:
            assert process.stdout is not None
            ballot = key_file = None
            for line in process.stdout:
                if line.startswith("A ballot of today"):
                    ballot = line.split(": ", 1)[1].strip()
                if line.startswith("Vote on it as"):
                    key_file = Path(line.rsplit(" ", 1)[1].strip())
                    break
            assert ballot is not None and key_file is not None, "the demo did not start"
            yield Demo(ballot.split("/b/")[0], ballot, key_file)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


def _reload_until(page: Page, ready: str) -> None:
    """Reload until ``ready`` (a selector) shows: the page is static HTML,
    the network moves on."""
    deadline = time.monotonic() + TIMEOUT_S
    while page.locator(ready).count() == 0:
        assert time.monotonic() < deadline, f"{ready} never showed on {page.url}"
        time.sleep(1)
        page.reload()


def test_a_member_signs_in_votes_and_sees_the_result(browser: Browser, demo: Demo) -> None:
    page = browser.new_page()
    page.goto(demo.web + "/")
    # Spanish by default, in the page's own language tag.
    expect(page.locator("html")).to_have_attribute("lang", "es")
    public = bytes(load_key_file(demo.key_file).verify_key).hex()
    page.set_input_files("#key-file", str(demo.key_file))
    page.fill("#passphrase", "una frase bastante larga")
    page.click("#signin button[type=submit]")
    expect(page.locator("#who")).to_contain_text(public[:12])
    # The key is kept sealed in the browser, never sent: only its public half shows.
    sealed = page.evaluate("localStorage.getItem('ayllu.member')")
    assert public in sealed and "seed" not in json.loads(sealed)

    page.goto(demo.ballot)
    _reload_until(page, "#vote")
    page.check("#choice-1")
    page.click("#vote button[type=submit]")
    status = page.locator("#vote .status")
    expect(status).to_contain_text(_("es", "Your vote is in. Its receipt (key image):"))
    receipt = status.inner_text().rsplit(" ", 1)[1]
    # The node holds a vote with that key image, in the member's base
    # group, and nothing in it names the member.
    base = httpx.get(f"{demo.web}/v1/members/{public}", timeout=10).json()["group"]
    votes = [
        event
        for event in _votes_in(demo, base)
        if event.event.body["sig"][:32].hex().startswith(receipt)
    ]
    assert len(votes) == 1
    assert bytes.fromhex(public) not in votes[0].raw
    assert votes[0].event.body["choice"] == [1]

    # A comment on the ballot's proposal, signed in the page too.
    page.get_by_role("link", name=_("es", "the proposal")).click()
    page.fill("#comment-text", "Juliaca queda cerca para todos.")
    page.click("form[data-kind=comment] button[type=submit]")
    expect(page.locator(".comment").filter(has_text="Juliaca queda cerca")).to_have_count(1)
    # The group's ledger shows the story's two flags.
    page.goto(f"{demo.web}/g/{base}/ledger")
    expect(page.locator(".warn li")).to_have_count(2)
    expect(page.locator(".warn")).to_contain_text(_("es", "Paid to the steward"))

    # Once the ballot closes, it is counted in the groups and summed at the root.
    page.goto(demo.ballot)
    _reload_until(page, "#outcome strong")
    decided = page.locator("#outcome strong").inner_text()
    assert decided in ("sí", "no")
    table = page.locator("table").inner_text()
    assert "Ayllu demo" in table


def test_a_member_files_a_protected_report_and_follows_it(browser: Browser, demo: Demo) -> None:
    """Sealed to the oversight group and ring-signed in the page; followed
    with the receipt alone, which the page shows once and keeps nowhere."""
    page = browser.new_page()
    page.goto(demo.web + "/")
    page.set_input_files("#key-file", str(demo.key_file))
    page.fill("#passphrase", "otra frase bastante larga")
    page.click("#signin button[type=submit]")
    public = bytes(load_key_file(demo.key_file).verify_key)
    expect(page.locator("#who")).to_contain_text(public.hex()[:12])
    page.goto(demo.web + "/reports")
    before = httpx.get(f"{demo.web}/v1/reports", timeout=10).json()["reports"]
    page.fill("#report-text", "Vi que la comisión no se registró en el libro.")
    page.click("#report button[type=submit]")
    sent = _("es", "Sent. The network will carry it.")
    expect(page.locator("#report .status")).to_have_text(sent)
    receipt = page.locator("#receipt-text")
    expect(receipt).to_contain_text("ayllu-receipt-1:")
    text = receipt.inner_text()
    report_id = text.split(":")[1]
    after = httpx.get(f"{demo.web}/v1/reports", timeout=10).json()["reports"]
    assert [r["id"] for r in after if r not in before] == [report_id]
    stored = httpx.get(f"{demo.web}/v1/events/{report_id}", timeout=10).content
    assert public not in stored and text.split(":")[2].encode() not in stored
    assert "ayllu-receipt" not in page.evaluate("JSON.stringify(localStorage)")

    page.reload()
    page.fill("#follow-receipt", text)
    page.click("#follow button[type=submit]")
    expect(page.locator("#replies")).to_contain_text(_("es", "No replies yet."))
    page.fill("#followup-text", "Tengo la foto del recibo.")
    page.click("#followup button[type=submit]")
    expect(page.locator("#followup .status")).to_have_text(sent)
    followups = httpx.get(f"{demo.web}/v1/reports/{report_id}", timeout=10).json()["followups"]
    assert len(followups) == 1


def _votes_in(demo: Demo, group: str) -> list[SignedEvent]:
    listed = httpx.get(f"{demo.web}/v1/events?group={group}&kind=vote&limit=100", timeout=10)
    return [
        parse_event(httpx.get(f"{demo.web}/v1/events/{e['id']}", timeout=10).content)
        for e in listed.json()["events"]
    ]


def test_switching_language_changes_the_page(browser: Browser, demo: Demo) -> None:
    page = browser.new_page()
    page.goto(demo.web + "/")
    heading = page.locator("#signin-title")
    expect(heading).to_have_text(_("es", "Your member key"))
    for lang, name in (("qu", "Runasimi"), ("ay", "Aymar aru"), ("en", "English")):
        page.get_by_role("link", name=name).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(heading).to_have_text(_(lang, "Your member key"))
    # The choice is remembered from page to page.
    page.goto(demo.ballot)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert re.search(r"Voting (opens|is open|closed)", page.locator("#ballot-status").inner_text())


def test_every_page_is_usable_without_sight_or_mouse(browser: Browser, demo: Demo) -> None:
    """What a screen reader and a keyboard need of each page: its language,
    one heading to start from, a label for every field, a name for every
    link and button, and a text beside every chart."""
    page = browser.new_page()
    page.goto(demo.web + "/")
    group = page.locator("a[href^='/g/']").nth(1).get_attribute("href")
    ballot = page.locator("a[href^='/b/']").first.get_attribute("href")
    for path in ("/", group, f"{group}/ledger", ballot, "/map", "/reports"):
        page.goto(f"{demo.web}{path}")
        problems = page.evaluate(A11Y_PROBLEMS)
        assert problems == [], (path, problems)
        # The keyboard reaches the content first.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"


#: Script listing what a page lacks for assistive technology.
A11Y_PROBLEMS = (Path(__file__).parent / "a11y_problems.js").read_text()


@pytest.fixture
def project_server() -> Iterator[str]:
    """The checkout served on loopback, for the crypto's page of checks."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(PROJECT))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_browser_crypto_passes_the_vectors(browser: Browser, project_server: str) -> None:
    """The shipped bundle, in chromium: events, ring signatures and votes
    made byte for byte as the specs' vectors and the Python code make them."""
    page = browser.new_page()
    page.goto(f"{project_server}/node/web/js/test/browser.html")
    page.wait_for_function("window.aylluChecks !== undefined", timeout=TIMEOUT_S * 1000)
    result = page.evaluate("window.aylluChecks")
    assert result["failed"] == []
    assert result["checked"] > 4000
