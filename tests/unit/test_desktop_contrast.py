"""The desktop's colours, read from its style sheets: every pair of text and background
colour it draws text with reaches WCAG 2.1's 4.5:1, and the focus ring 3:1 against every
background it is drawn on (docs/accessibility.md). The browser tests check the page as
shown (axe-core); this check names the pairs, so a changed colour says which it broke."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "opencx" / "web" / "static"
SHEETS = (STATIC / "opencx.css").read_text() + (STATIC / "desktop" / "desktop.css").read_text()
TEXT = 4.5
NON_TEXT = 3.0


def variables() -> dict[str, str]:
    return dict(re.findall(r"(--[\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", SHEETS))


def colour(value: str) -> str:
    return variables()[value[4:-1]] if value.startswith("var(") else value


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def ratio(one: str, other: str) -> float:
    high, low = sorted((luminance(colour(one)), luminance(colour(other))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def rule(selector: str) -> str:
    found = re.search(re.escape(selector) + r"\s*\{([^}]*)\}", SHEETS)
    assert found, f"no rule {selector}"
    return found.group(1)


def declared(selector: str, prop: str) -> str:
    found = re.search(rf"(?<![\w-]){prop}:\s*([^;]+);", rule(selector))
    assert found, f"{selector} sets no {prop}"
    return found.group(1).strip()


#: (text, background, where): the pairs the desktop draws text with.
PAIRS = [
    ("var(--ink)", "var(--paper)", "text"),
    ("var(--ink)", "var(--canvas)", "text on the page's canvas"),
    ("var(--muted)", "var(--paper)", "secondary text"),
    ("var(--muted)", "var(--canvas)", "secondary text on the canvas, tags"),
    ("var(--muted)", "#eef3ff", "secondary text in the selected conversation, sent bubbles"),
    ("var(--muted)", "#fffaeb", "secondary text in notes"),
    ("var(--brand)", "var(--paper)", "links"),
    ("var(--brand-dark)", "#f5f8ff", "offer countdown"),
    ("var(--danger)", "var(--danger-bg)", "errors"),
    ("#8a4b00", "#fff4e5", "connecting"),
    ("#17663a", "#e7f6ec", "live, verified"),
    ("#ffffff", "var(--ink)", "the selected inbox view"),
    ("#ffffff", "var(--brand)", "primary buttons"),
]


@pytest.mark.parametrize(("text", "background", "where"), PAIRS)
def test_text_is_readable(text: str, background: str, where: str) -> None:
    assert ratio(text, background) >= TEXT, where


@pytest.mark.parametrize(
    "channel", ["chat", "email", "voice", "sms", "whatsapp", "messenger", "review"]
)
def test_channel_badges_keep_their_white_letter_readable(channel: str) -> None:
    background = declared(f".ch-{channel}", "background")
    assert ratio("#ffffff", background) >= TEXT, background


def test_the_focus_ring_stands_out_from_every_background() -> None:
    ring = declared("body.desk :focus-visible", "outline").split()
    assert ring[1] == "solid"
    assert float(ring[0].removesuffix("px")) >= 2
    for background in ("var(--paper)", "var(--canvas)", "#eef3ff", "#f5f8ff", "#fffaeb"):
        assert ratio(ring[2], background) >= NON_TEXT, background
