"""The recorded Meta requests under ``payloads/``: raw body, headers and signing secret.

The three reference examples come from ``shared/reference/webhooks/meta`` (copied, names
kept); the others were built from Meta's documented payloads and signed with
``openssl dgst -sha256 -hmac``, independently of the code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


@dataclass(frozen=True, slots=True)
class Recorded:
    name: str
    body: bytes
    signature: str
    secret: str


def load(name: str) -> Recorded:
    request = json.loads((PAYLOADS / f"{name}.request.json").read_text(encoding="utf-8"))
    return Recorded(
        name=name,
        body=(PAYLOADS / request["body_file"]).read_bytes(),
        signature=request["headers"]["X-Hub-Signature-256"],
        secret=request["signing"]["app_secret_used"],
    )


def body(name: str) -> bytes:
    return load(name).body


#: Every signed request recorded here, by name.
SIGNED = sorted(path.name.removesuffix(".request.json") for path in PAYLOADS.glob("*.request.json"))
