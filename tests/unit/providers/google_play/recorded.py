"""The Google Play answers under ``payloads/``, written from the androidpublisher v3
reference (``reviews.list``, ``reviews.reply``, the OAuth 2.0 token endpoint and
Google's error document), independently of the code under test."""

from __future__ import annotations

from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


#: Every recorded answer, by name.
RECORDED = sorted(path.stem for path in PAYLOADS.glob("*.json"))
