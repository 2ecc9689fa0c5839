"""How soon the agent desktop is useful after the agent signs in, on the demo.

Starts ``opencx demo`` (a fresh database, its seeded company), then, ``--runs`` times
(one more first, not measured, to warm the server up), signs the demo agent in with
Debian's Chromium in a fresh browser context (nothing cached) and measures:
- sign-in: from the click on "Sign in" to the desktop's first useful paint (the
  password check is argon2id, slow on purpose);
- first useful paint: from opening /desktop, signed in, to the live view shown
  (presence menu enabled, the offers list drawn from the first snapshot), in another
  fresh context with the same session, as an agent opening the desktop in the morning.

Prints p50 and max of each, then one JSON line of the figures.

    python bench/desktop_paint.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from typing import Any

from playwright.sync_api import sync_playwright

from opencx.testing.demo_server import DEMO_PASSWORD, DemoServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def until_useful(page: Any) -> None:
    page.locator('select[name="presence"]:enabled').wait_for()
    page.locator("cx-offers [role=listitem]").first.wait_for()


def sign_in_once(browser: Any, demo: DemoServer) -> tuple[float, float]:
    """(sign-in, first useful paint) in seconds."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en")
    page = context.new_page()
    page.goto(f"{demo.url}/login")
    page.locator("input[name=email]").fill("agent@demo.opencx.dev")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    clicked = time.perf_counter()
    page.locator("button[type=submit]").click()
    until_useful(page)
    signed_in = time.perf_counter() - clicked
    cookies = context.cookies()
    context.close()
    fresh = browser.new_context(viewport={"width": 1440, "height": 900}, locale="en")
    fresh.add_cookies(cookies)
    page = fresh.new_page()
    opened = time.perf_counter()
    page.goto(f"{demo.url}/desktop")
    until_useful(page)
    useful = time.perf_counter() - opened
    fresh.close()
    return signed_in, useful


def main(runs: int) -> dict[str, Any]:
    useful: list[float] = []
    signing: list[float] = []
    with DemoServer() as demo, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        sign_in_once(browser, demo)  # warm-up
        for _ in range(runs):
            signed_in, first = sign_in_once(browser, demo)
            signing.append(signed_in)
            useful.append(first)
        browser.close()
    figures = {
        "bench": "desktop_paint",
        "runs": runs,
        "useful_p50_ms": round(statistics.median(useful) * 1000, 1),
        "useful_max_ms": round(max(useful) * 1000, 1),
        "sign_in_p50_ms": round(statistics.median(signing) * 1000, 1),
        "sign_in_max_ms": round(max(signing) * 1000, 1),
    }
    print(
        f"first useful paint p50 {figures['useful_p50_ms']} ms (max {figures['useful_max_ms']}),"
        f" sign-in to desktop p50 {figures['sign_in_p50_ms']} ms"
        f" (max {figures['sign_in_max_ms']})"
    )
    return figures


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    print(json.dumps(main(parser.parse_args().runs)))
