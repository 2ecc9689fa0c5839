"""The agent desktop worked by keyboard and heard through a screen reader, in a real
browser over a real server (docs/accessibility.md): landmarks and headings, every
control reached by Tab in reading order with a name and a visible focus ring, the ARIA
tabs pattern, dialogs that keep and give back the focus, live regions for new offers
and messages, and axe-core's rules (WCAG 2.1 A and AA) with no violation."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from tests.e2e.browsing import Floor, Site
from tests.e2e.conftest import LiveServer
from tests.e2e.test_agent_desktop import PASSWORD, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

#: The region each focus stop is in, in the order a reader meets them.
REGIONS = ["banner", "work", "conversation", "context"]

#: In the page: which region holds the focused element, its accessible name as
#: Playwright's engine computes it is checked apart; its focus ring and the contrast
#: of the ring against what is behind it (WCAG 1.4.11: 3:1).
FOCUS_STOP = """() => {
  const node = document.activeElement;
  const region = node.closest(".topbar") ? "banner"
    : node.closest(".desk-side") ? "work"
    : node.closest(".desk-work") ? "conversation"
    : node.closest(".desk-context") ? "context" : "other";
  const style = getComputedStyle(node);
  const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
  const linear = (c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const lum = ([r, g, b]) => 0.2126 * linear(r / 255) + 0.7152 * linear(g / 255)
    + 0.0722 * linear(b / 255);
  const background = (n) => rgb(getComputedStyle(n).backgroundColor);
  let behind = node.parentElement;
  while (behind && background(behind)[3] === 0) behind = behind.parentElement;
  const back = behind ? background(behind) : [255, 255, 255];
  const ring = rgb(style.outlineColor);
  const alpha = ring.length > 3 ? ring[3] : 1;
  const seen = ring.slice(0, 3).map((c, i) => c * alpha + back[i] * (1 - alpha));
  const [hi, lo] = [lum(seen), lum(back)].sort((a, b) => b - a);
  return {
    region,
    tag: node.tagName,
    text: (node.getAttribute("aria-label") || node.textContent).trim().slice(0, 40),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
    contrast: (hi + 0.05) / (lo + 0.05),
  };
}"""

#: Every control a keyboard user should reach: shown, enabled, in the tab order.
REACHABLE = """() => [...document.querySelectorAll(
    "a[href], button, input, select, textarea, [tabindex]")]
  .filter((node) => node.tabIndex >= 0 && !node.disabled && node.getClientRects().length
    && getComputedStyle(node).visibility === "visible" && !node.closest("dialog:not([open])"))
  .map((node) => (node.getAttribute("aria-label") || node.textContent).trim().slice(0, 40))"""


def sign_in_desk(browser: Any, server: LiveServer, center: Floor) -> Any:
    center.ok(center.api.patch(f"/users/{center.agent_id}", json={"password": PASSWORD}))
    page = browser.new_page(viewport={"width": 1440, "height": 900}, reduced_motion="reduce")
    page.goto(f"{server.url}/login?lang=en")
    page.locator("input[name=email]").fill("lea@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{server.url}/desktop")
    page.locator('.connection[data-connection="connected"]').wait_for()
    return page


def two_chats(browser: Any, site: Site, server: LiveServer, center: Floor) -> tuple[Any, Any]:
    """The desk with two chats in hand, the second shown; the first visitor's widget."""
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("available")
    desk = sign_in_desk(browser, server, center)
    first = start_chat(browser, site, server, "Where is my parcel 48213?")
    desk.get_by_role("button", name="Accept").click()
    desk.get_by_role("log").get_by_text("Where is my parcel 48213?").wait_for()
    start_chat(browser, site, server, "My alarm beeps at night")
    desk.get_by_role("button", name="Accept").click()
    desk.get_by_role("log").get_by_text("My alarm beeps at night").wait_for()
    return desk, first


def test_landmarks_headings_and_tab_order(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    desk, _ = two_chats(browser, site, server, center)

    for role, name in [
        ("banner", None),
        ("navigation", "Language"),
        ("main", None),
        ("complementary", "Work"),
        ("complementary", "Customer and tools"),
        ("region", "Conversation"),
    ]:
        assert desk.get_by_role(role, name=name, exact=True).count() == 1, (role, name)
    levels = desk.evaluate(
        "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')]"
        ".filter((h) => h.getClientRects().length || h.classList.contains('visually-hidden'))"
        ".map((h) => Number(h.tagName[1]))"
    )
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    assert desk.get_by_role("heading", name="Agent desktop", level=1).count() == 1

    # The page's first focus stop offers to skip the top bar; following it puts the
    # reader in main.
    skip = desk.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("(node) => node === document.querySelector('a[href], button, input')")
    desk.get_by_role("link", name="OpenCX").focus()
    desk.keyboard.press("Shift+Tab")
    assert skip.evaluate("(node) => node === document.activeElement")
    assert skip.bounding_box()["y"] >= 0  # shown once it has the focus
    desk.keyboard.press("Enter")
    assert desk.evaluate("() => document.activeElement.tagName") == "MAIN"

    reachable = set(desk.evaluate(REACHABLE))
    desk.get_by_role("link", name="OpenCX").focus()
    stops = [desk.evaluate(FOCUS_STOP)]
    for _ in range(80):
        desk.keyboard.press("Tab")
        stop = desk.evaluate(FOCUS_STOP)
        if (stop["tag"], stop["text"]) == (stops[0]["tag"], stops[0]["text"]):
            break
        if stop["tag"] == "BODY":  # the browser's own controls, past the page's last
            continue
        stops.append(stop)
        focused = desk.locator(":focus")
        assert re.search(r"\w", focused.evaluate(NAME)), stop
        assert stop["outline"] != "none", stop
        assert stop["width"] >= 2, stop
        assert stop["contrast"] >= 3, stop
    regions = [REGIONS.index(s["region"]) for s in stops if s["region"] in REGIONS]
    assert regions == sorted(regions), "; ".join(f"{s['region']}:{s['text']}" for s in stops)
    assert set(REGIONS) <= {s["region"] for s in stops}
    assert reachable <= {s["text"] for s in stops}, reachable - {s["text"] for s in stops}


#: The accessible name as Chromium computes it (through the DevTools protocol's view is
#: heavier; aria-label, aria-labelledby, labels and content cover the desktop's controls).
NAME = """(node) => {
  const byIds = (ids) => ids.split(" ").map((id) => document.getElementById(id)?.textContent || "");
  return node.getAttribute("aria-label")
    || byIds(node.getAttribute("aria-labelledby") || "").join(" ").trim()
    || [...(node.labels || [])].map((label) => label.textContent).join(" ").trim()
    || node.getAttribute("title") || node.textContent.trim();
}"""


def test_tabs_dialogs_and_live_regions(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor]
) -> None:
    server, center = floor
    desk, first_visitor = two_chats(browser, site, server, center)

    # Each offer was said at once.
    urgent = desk.locator("#announce-urgent")
    assert urgent.get_attribute("aria-live") == "assertive"
    assert urgent.inner_text() == "Web chat from Ada Lovelace"

    # A customer writes in the conversation not shown: said politely.
    first_visitor.get_by_label("Write a message…").fill("Are you still there?")
    first_visitor.get_by_role("button", name="Send").click()
    polite = desk.locator("#announce-polite")
    assert polite.get_attribute("aria-live") == "polite"
    desk.wait_for_function(
        "() => document.getElementById('announce-polite').textContent"
        " === 'New message from Ada Lovelace'"
    )

    # The conversations in hand: arrows, Home and End move and select.
    conversations = desk.get_by_role("tablist", name="My conversations")
    tabs = conversations.get_by_role("tab")
    assert tabs.count() == 2
    tabs.nth(1).focus()
    desk.keyboard.press("ArrowDown")
    assert tabs.nth(0).get_attribute("aria-selected") == "true"
    assert tabs.nth(0).evaluate("(node) => node === document.activeElement")
    desk.keyboard.press("End")
    assert tabs.nth(1).get_attribute("aria-selected") == "true"
    desk.keyboard.press("Home")
    assert tabs.nth(0).get_attribute("aria-selected") == "true"
    panel = desk.get_by_role("tabpanel", name=re.compile("Ada Lovelace"))
    assert panel.count() == 1

    for list_name, first, second in [
        ("Inbox", "Mine", "Team"),
        ("Customer and tools", "Customer", "Answers"),
    ]:
        views = desk.get_by_role("tablist", name=list_name)
        views.get_by_role("tab", name=first, exact=True).focus()
        desk.keyboard.press("ArrowRight")
        chosen = views.get_by_role("tab", name=second, exact=True)
        assert chosen.get_attribute("aria-selected") == "true", list_name
        assert chosen.evaluate("(node) => node === document.activeElement"), list_name
        controlled = chosen.get_attribute("aria-controls")
        assert desk.locator(f"#{controlled}").get_attribute("role") == "tabpanel"
        desk.keyboard.press("Home")
        assert (
            views.get_by_role("tab", name=first, exact=True).get_attribute("aria-selected")
            == "true"
        )

    # Dialogs: Tab stays inside, Escape gives the focus back to what opened it.
    for opener_name, dialog_name in [
        ("Keyboard shortcuts", "Keyboard shortcuts"),
        ("Transfer", "Transfer the conversation"),
    ]:
        opener = desk.get_by_role("button", name=opener_name, exact=True)
        opener.focus()
        desk.keyboard.press("Enter")
        dialog = desk.get_by_role("dialog", name=dialog_name)
        dialog.wait_for()
        for _ in range(8):
            desk.keyboard.press("Tab")
            assert dialog.evaluate("(node) => node.contains(document.activeElement)"), dialog_name
        for _ in range(8):
            desk.keyboard.press("Shift+Tab")
            assert dialog.evaluate("(node) => node.contains(document.activeElement)"), dialog_name
        desk.keyboard.press("Escape")
        dialog.wait_for(state="detached" if opener_name == "Transfer" else "hidden")
        focused = desk.locator(":focus")
        assert focused.evaluate(NAME) == opener_name, dialog_name


def test_axe_finds_no_violation(browser: Any, site: Site, floor: tuple[LiveServer, Floor]) -> None:
    axe = pytest.importorskip("axe_playwright_python.sync_playwright")
    server, center = floor
    desk, _ = two_chats(browser, site, server, center)
    desk.get_by_role("tablist", name="Customer and tools").get_by_role("tab").first.wait_for()
    desk.locator(".context-panel:not([aria-busy])").wait_for()
    options = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    results = axe.Axe().run(desk, options=options)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:5], v["nodes"][0]["failureSummary"])
        for v in results.response["violations"]
    ]
    assert violations == []
