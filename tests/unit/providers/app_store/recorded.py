"""The App Store Connect answers under ``payloads/``, written from Apple's reference
(``GET /v1/apps/{id}/customerReviews``, ``POST /v1/customerReviewResponses`` and the
``ErrorResponse`` document), independently of the code under test."""

from __future__ import annotations

from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


#: Every recorded answer, by name.
RECORDED = sorted(path.stem for path in PAYLOADS.glob("*.json"))
