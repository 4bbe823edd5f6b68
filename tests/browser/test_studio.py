"""The web studio in a real browser, as a person uses it: sign in, import a paper by upload,
search, make a 1-minute podcast (its script reviewed before audio) and watch it finish, play
it, open a line's cited paragraph, cancel jobs, make a 10-second video and prepare it for
Instagram, delete the source; another owner's key sees none of it. Screenshots of each page go
to out/screenshots/ (with the first-load page weight in page-weight.json).

The tests run in order and share one library (each step builds on the one before, as a user's
session does)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import SHOTS, Server, first_load

PAPER = "papermage_lo2023_emnlp_demo.pdf"
QUERY = "visually rich scientific documents"
EDITED = "Welcome to the Librarian podcast, edited in the studio before any audio."
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
state: dict[str, Any] = {}


def open_as(browser: Browser, server: Server, who: str, viewport: dict[str, int] = DESKTOP
            ) -> tuple[BrowserContext, Page]:
    """A fresh browser profile signed in through the sign-in form."""
    ctx = browser.new_context(base_url=server.url, viewport=viewport)
    page = ctx.new_page()
    page.on("pageerror", lambda exc: state.setdefault("page_errors", []).append(str(exc)))
    page.goto("/")
    page.get_by_label("API key").fill(server.keys[who])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Library", exact=True)).to_be_visible()
    return ctx, page


def until(page: Page, js: str, timeout_s: float = 30) -> None:
    """Poll a JS expression (page.evaluate: the page's CSP forbids wait_for_function's eval)."""
    for _ in range(int(timeout_s * 5)):
        if page.evaluate(js):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"never true: {js}")


def shot(page: Page, name: str) -> Path:
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def ann(browser: Browser, server: Server) -> Iterator[Page]:
    ctx, page = open_as(browser, server, "ann")
    yield page
    ctx.close()


def test_sign_in_refuses_a_wrong_key(browser: Browser, server: Server) -> None:
    ctx = browser.new_context(base_url=server.url)
    page = ctx.new_page()
    page.goto("/jobs")
    page.get_by_label("API key").fill("lib_not-a-key")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("invalid or revoked API key")
    cookies = ctx.cookies()
    assert not cookies
    page.get_by_label("API key").fill(server.keys["ann"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Signed in as ann")).to_be_visible()
    cookie = next(c for c in ctx.cookies() if c["name"] == "librarian_key")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # the key is out of reach of scripts
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert not [c for c in ctx.cookies() if c["name"] == "librarian_key"]
    ctx.close()


def test_import_a_paper_by_upload(ann: Page, testdata: Path) -> None:
    ann.locator("#files").set_input_files(str(testdata / "papers" / PAPER))
    item = ann.locator(".imports li").first
    expect(item.get_by_role("progressbar")).to_be_visible()
    expect(item).to_contain_text("imported", timeout=180_000)
    assert item.get_by_role("progressbar").get_attribute("aria-valuenow") == "100"
    row = ann.locator("table.sources tbody tr").first
    expect(row).to_contain_text("PaperMage")
    expect(row).to_contain_text("ready")
    state["source_id"] = row.locator("input[name=pick]").get_attribute("value")
    shot(ann, "library")


def test_search_opens_the_source_at_the_paragraph(ann: Page) -> None:
    ann.get_by_label("Search", exact=True).fill(QUERY)
    ann.get_by_role("button", name="Search", exact=True).click()
    hit = ann.locator(".hits li.hit").first
    expect(hit).to_contain_text("PaperMage")
    expect(hit).to_contain_text(re.compile(r"p\. \d+"))
    hit.get_by_role("link").click()
    expect(ann.locator(".paras p.focus")).to_have_count(1)
    expect(ann.get_by_role("heading", name="Citation network")).to_be_visible()
    expect(ann.get_by_role("heading", name="Figures and tables")).to_be_visible()
    ann.go_back()
    expect(ann.get_by_role("heading", name="Library", exact=True)).to_be_visible()


def test_make_a_one_minute_podcast_and_watch_it(ann: Page, server: Server) -> None:
    ann.goto(f"/studio?sources={state['source_id']}")
    expect(ann.get_by_label("Export")).to_have_value("podcast")
    expect(ann.locator(f"#src-{state['source_id']}")).to_be_checked()
    minutes = ann.get_by_label("Minutes")
    assert minutes.get_attribute("max") == "60" and minutes.get_attribute("min") == "0.5"
    minutes.fill("99")  # the form holds the model's range: refused before any request
    expect(ann.locator("#estimate")).to_contain_text("Fix the marked options")
    expect(ann.get_by_role("button", name="Start")).to_be_disabled()
    minutes.fill("1")
    ann.get_by_label("Hosts").fill("2")
    expect(ann.locator("#estimate")).to_contain_text("Voice cost: free", timeout=240_000)
    ann.get_by_label("Review", exact=True).check()  # stop before audio: read and edit the script
    expect(ann.locator("#estimate")).to_contain_text("Voice cost: free", timeout=240_000)
    expect(ann.get_by_role("button", name="Start")).to_be_enabled()  # the estimate is current
    shot(ann, "studio")
    ann.get_by_role("button", name="Start").click()
    expect(ann.locator(".stages li.now, .stages li.done").first).to_be_visible(timeout=240_000)
    expect(ann.get_by_role("heading", name="Review the script before audio")).to_be_visible(
        timeout=600_000)
    intro = ann.locator(".review-line[data-kind=intro] textarea").first
    intro.fill(EDITED)
    shot(ann, "studio-review")
    ann.get_by_role("button", name="Approve and narrate").click()
    state["stages_seen"] = set()

    def saw_stage() -> bool:
        now = ann.locator(".stages li.now")
        if now.count():
            state["stages_seen"].add(now.first.inner_text())
        return ann.get_by_text("Done.").count() > 0

    for _ in range(900):
        if saw_stage():
            break
        ann.wait_for_timeout(300)
    expect(ann.get_by_text("Done.")).to_be_visible()
    assert len(state["stages_seen"]) >= 2, state["stages_seen"]  # progress came stage by stage
    shot(ann, "studio-done")
    ann.get_by_role("link", name="Open it").click()
    expect(ann.get_by_role("heading", name="Transcript")).to_be_visible()
    state["artifact_id"] = ann.url.rsplit("/", 1)[-1]
    expect(ann.locator(".transcript li").first).to_contain_text(EDITED)  # the reviewed script


def test_player_highlights_lines_and_shows_cited_paragraphs(ann: Page) -> None:
    audio = ann.locator("audio")
    expect(audio).to_have_count(1)
    until(ann, "document.querySelector('audio').readyState >= 1")
    duration = ann.evaluate("document.querySelector('audio').duration")
    art = ann.request.get(f"/api/artifacts/{state['artifact_id']}").json()
    assert abs(duration - art["duration_s"]) < 1.0, (duration, art["duration_s"])
    # about a minute (a reviewed script is narrated as approved: no refit to the length)
    assert 45 <= duration <= 90, duration
    ann.evaluate("document.querySelector('audio').play()")
    until(ann, "document.querySelector('audio').currentTime > 0.5")
    current = ann.locator(".transcript li.now")
    expect(current).to_have_count(1)
    t = ann.evaluate("document.querySelector('audio').currentTime")
    start, end = (float(current.get_attribute(a) or "nan") for a in ("data-start", "data-end"))
    assert start <= t + 0.5 and t - 0.5 < end, (start, t, end)
    ann.evaluate("document.querySelector('audio').pause()")
    line = ann.locator(".transcript li[data-kind=content]").filter(has=ann.locator(".cite")).nth(1)
    said = line.locator(".text").inner_text()
    line.get_by_role("button").click()
    panel = ann.locator(".cited-panel")
    expect(panel.locator(".said")).to_have_text(said)
    quote = panel.locator("blockquote mark").first
    expect(quote).to_be_visible()
    assert len(quote.inner_text()) > 20
    expect(panel).to_contain_text(re.compile(r"page \d+"))
    expect(panel.locator(".licence").first).to_be_visible()
    expect(panel.get_by_role("link", name=re.compile("PaperMage"))).to_be_visible()
    # the click also moved playback to the line, and the highlight follows
    expect(ann.locator(".transcript li.now")).to_contain_text(said)
    expect(ann.get_by_role("heading", name="Licence and attribution")).to_be_visible()
    expect(ann.get_by_label("Attribution text")).to_contain_text("Sources:")
    shot(ann, "player")


def test_jobs_page_trace_and_cancel(ann: Page) -> None:
    ann.goto("/jobs")
    rows = ann.locator("table.jobs tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="podcast")).to_contain_text("completed")
    rows.filter(has_text="podcast").get_by_role("link").click()
    expect(ann.get_by_role("heading", name="Trace, node by node")).to_be_visible()
    assert ann.locator("table.trace tbody tr").count() >= 3
    # a long podcast and one queued behind it (one job slot), started through the API as the
    # studio does, then both cancelled on the page: the waiting one at once, the running one
    # within seconds of its next step
    def export(minutes: float) -> str:
        resp = ann.request.post("/api/content/export", headers={"X-Librarian-UI": "1"}, data={
            "format": "podcast", "source_ids": [state["source_id"]],
            "parameters": {"minutes": minutes}})
        assert resp.status == 202, resp.text()
        return str(resp.json()["job_id"])

    running, waiting = export(20), export(1)
    ann.goto("/jobs")
    for job_id in (waiting, running):
        row = ann.locator(f'tr[data-job="{job_id}"]')
        expect(row).to_be_visible(timeout=120_000)
        row.get_by_role("button", name=re.compile("Cancel")).click(timeout=120_000)
        expect(row.locator(".status")).to_have_text("cancelled", timeout=180_000)
        expect(row.get_by_role("button", name=re.compile("Retry"))).to_be_visible(timeout=60_000)
    shot(ann, "jobs")


def test_make_a_short_video_and_prepare_it_for_instagram(ann: Page) -> None:
    ann.goto(f"/studio?sources={state['source_id']}")
    ann.get_by_label("Export").select_option("video")
    ann.get_by_label("Seconds").fill("10")
    expect(ann.locator("#estimate")).to_contain_text("Voice cost: free", timeout=240_000)
    expect(ann.get_by_role("button", name="Start")).to_be_enabled()
    ann.get_by_role("button", name="Start").click()
    expect(ann.get_by_role("heading", name="Making a video")).to_be_visible(timeout=120_000)
    expect(ann.get_by_text("Done.")).to_be_visible(timeout=300_000)
    ann.get_by_role("link", name="Open it").click()
    expect(ann.get_by_role("heading", name="Scenes")).to_be_visible()
    state["video_id"] = ann.url.rsplit("/", 1)[-1]
    until(ann, "document.querySelector('video').readyState >= 1")
    assert 8 <= ann.evaluate("document.querySelector('video').duration") <= 13
    assert ann.locator(".transcript li").count() >= 2
    ann.get_by_label("Platform").select_option("instagram")
    ann.get_by_role("button", name="Publish").click()
    expect(ann.get_by_text("Ready to post by hand")).to_be_visible(timeout=120_000)
    expect(ann.locator("pre.caption")).to_contain_text("PaperMage")
    shot(ann, "player-video")


WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_pages_pass_axe_wcag_aa(ann: Page) -> None:
    """axe-core's WCAG 2.1 A/AA rules (labels, contrast, roles, names) on every page."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    found = {}
    for path, ready in (("/", "table.sources tbody tr"), ("/studio", "#estimate"),
                        (f"/sources/{state['source_id']}", ".paras p"),
                        (f"/player/{state['artifact_id']}", ".transcript li"),
                        (f"/player/{state['video_id']}", ".transcript li"),
                        ("/jobs", "table.jobs tbody tr"), ("/analytics", "section.card")):
        ann.goto(path)
        ann.locator(ready).first.wait_for()
        ann.wait_for_timeout(500)
        result = axe.run(ann, options=WCAG_AA)
        found[path] = [(v["id"], [n["target"] for n in v["nodes"]][:3])
                       for v in result.response["violations"]]
    assert not any(found.values()), found


def test_another_owner_sees_nothing_of_it(browser: Browser, server: Server) -> None:
    ctx, page = open_as(browser, server, "ben")
    expect(page.get_by_text("No sources yet")).to_be_visible()
    page.goto("/jobs")
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.locator("table.jobs tbody tr")).to_have_count(0)
    for path in (f"/player/{state['artifact_id']}", f"/player/{state['video_id']}",
                 f"/sources/{state['source_id']}"):
        page.goto(path)
        expect(page.get_by_role("alert")).to_contain_text(re.compile("no (artifact|source)"))
    for api in (f"/api/artifacts/{state['artifact_id']}", f"/api/content/{state['source_id']}",
                f"/api/artifacts/{state['artifact_id']}/files/audio",
                f"/api/provenance/artifact/{state['artifact_id']}/genealogy"):
        assert page.request.get(api).status == 404, api
    assert page.request.get("/api/artifacts").json() == []
    page.goto("/studio")
    expect(page.get_by_text("No sources yet")).to_be_visible()
    ctx.close()


def test_phone_width(browser: Browser, server: Server) -> None:
    ctx, page = open_as(browser, server, "ann", PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "library-phone")
    page.goto(f"/player/{state['artifact_id']}")
    expect(page.get_by_role("heading", name="Transcript")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "player-phone")
    ctx.close()


def test_first_load_page_weight(browser: Browser, server: Server) -> None:
    """Bytes over the wire for a first visit (nothing cached) of the signed-in library."""
    report = first_load(browser, server, "/", ready="table.sources tbody tr")
    (SHOTS / "page-weight.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"first-load page weight of /: {report['bytes']} bytes in {report['requests']} requests")
    assert report["bytes"] > 0
    assert all(u.startswith("/") for u in report["by_url"]), report["by_url"]  # nothing remote


def test_delete_the_source_naming_what_goes(ann: Page) -> None:
    ann.goto(f"/sources/{state['source_id']}")
    ann.get_by_role("button", name="Delete…").click()
    dialog = ann.get_by_role("dialog")
    expect(dialog).to_contain_text("marks these as orphaned")
    expect(dialog).to_contain_text("podcast")
    dialog.get_by_label(re.compile("Delete for good")).check()
    dialog.get_by_role("button", name="Delete", exact=True).click()
    expect(ann.get_by_role("heading", name="Library", exact=True)).to_be_visible()
    expect(ann.get_by_text("No sources yet")).to_be_visible()
    assert ann.request.get(f"/api/content/{state['source_id']}").status == 404
    assert not state.get("page_errors"), state.get("page_errors")
