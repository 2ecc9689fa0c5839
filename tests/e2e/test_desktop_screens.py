"""The agent desktop on a laptop's screen, in a real browser over a real server: from
1024×700 to 1366×768 nothing runs off the side, the reply box is in view, and the
customer and tools are in reach at every width — beside the conversation where there
is room, else in a drawer its "Customer details" button opens and Escape closes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import Floor, Site
from tests.e2e.conftest import LiveServer
from tests.e2e.test_agent_desktop import sign_in, start_chat

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

#: Shown elements whose right edge passes the window's (the drawer, closed, is off
#: screen on purpose: hidden from everyone until opened).
OVERFLOWING = """() => [...document.querySelectorAll("body *")]
  .filter((node) => node.getClientRects().length && getComputedStyle(node).visibility === "visible"
    && !node.closest(".visually-hidden"))
  .filter((node) => node.getBoundingClientRect().right > innerWidth + 0.5)
  .map((node) => node.tagName + "." + node.className)"""


def in_view(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        bool(box)
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


@pytest.mark.parametrize(("width", "height"), [(1024, 700), (1366, 768)])
def test_a_laptop_screen_shows_everything(
    browser: Any, site: Site, floor: tuple[LiveServer, Floor], width: int, height: int
) -> None:
    server, center = floor
    center.widget(allowed_origins=[f"http://127.0.0.1:{site.port}"])
    center.presence("available")
    desk = sign_in(browser, server, center)
    desk.set_viewport_size({"width": width, "height": height})
    desk.emulate_media(reduced_motion="reduce")  # the drawer opens without sliding
    start_chat(browser, site, server, "Where is my parcel 48213?")
    desk.get_by_role("button", name="Accept").click()
    desk.get_by_role("log").get_by_text("Where is my parcel 48213?").wait_for()

    assert desk.evaluate("() => document.documentElement.scrollWidth") <= width
    assert desk.evaluate(OVERFLOWING) == []
    for control in ("Send", "Transfer", "Wrap up", "Sign out"):
        assert in_view(desk, desk.get_by_role("button", name=control, exact=True)), control
    assert in_view(desk, desk.get_by_role("textbox", name="Reply"))

    context = desk.get_by_role("complementary", name="Customer and tools")
    customer_tab = context.get_by_role("tab", name="Customer")
    toggle = desk.get_by_role("button", name="Customer details", exact=True)
    if width >= 1200:
        assert toggle.count() == 0 or not toggle.is_visible()
        assert customer_tab.is_visible()
        return
    assert not customer_tab.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.focus()
    desk.keyboard.press("Enter")
    customer_tab.wait_for()
    assert in_view(desk, customer_tab)
    assert customer_tab.evaluate("(node) => node === document.activeElement")
    assert toggle.get_attribute("aria-expanded") == "true"
    context.get_by_role("heading", name="Ada Lovelace").wait_for()
    assert desk.evaluate(OVERFLOWING) == []
    desk.keyboard.press("Escape")
    customer_tab.wait_for(state="hidden")
    assert toggle.evaluate("(node) => node === document.activeElement")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    context.get_by_role("button", name="Close the customer details").click()
    customer_tab.wait_for(state="hidden")
