"""The recorded SendGrid Inbound Parse posts under ``payloads/``: raw body and headers.

``sendgrid_inbound_parse`` is the reference example from
``shared/reference/webhooks/email_inbound`` (copied, name kept); the others were written
field by field from SendGrid's documented payload (raw mode, parsed mode with
attachments, an iso-8859-1 HTML body), independently of the code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"


@dataclass(frozen=True, slots=True)
class Recorded:
    name: str
    body: bytes
    headers: dict[str, str]

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    def part(self, name: str) -> bytes:
        """The bytes of one form field, cut out of the body by hand."""
        boundary = self.content_type.split("boundary=", 1)[1].encode()
        for chunk in self.body.split(b"--" + boundary):
            head, _, data = chunk.partition(b"\r\n\r\n")
            if f'; name="{name}"'.encode() in head:
                return data.removesuffix(b"\r\n")
        raise KeyError(name)


def load(name: str) -> Recorded:
    spec: dict[str, Any] = json.loads((PAYLOADS / f"{name}.request.json").read_text("utf-8"))
    return Recorded(
        name=name, body=(PAYLOADS / spec["body_file"]).read_bytes(), headers=spec["headers"]
    )


#: Every recorded post, by name.
RECORDED = sorted(
    path.name.removesuffix(".request.json") for path in PAYLOADS.glob("*.request.json")
)
