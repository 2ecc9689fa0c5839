"""The X API v2 answers under ``payloads/``, written from X's reference (``GET
/2/users/:id/mentions``, ``POST /2/tweets``, ``POST /2/oauth2/token`` and its OAuth 2.0
errors, the problem and error documents), independently of the code under test."""

from __future__ import annotations

from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


def body(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


#: Every recorded answer, by name.
RECORDED = sorted(path.stem for path in PAYLOADS.glob("*.json"))
