"""The recorded Twilio requests under ``payloads/``: URL, raw body, signature, token.

The five reference examples come from ``shared/reference/webhooks/twilio`` (copied,
names kept); the others were built from Twilio's documented parameters and signed with
the official twilio-python ``RequestValidator``, independently of the code under test.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

PAYLOADS = Path(__file__).parent / "payloads"
AUTH_TOKEN = "12345"


@dataclass(frozen=True, slots=True)
class Recorded:
    name: str
    url: str
    body: bytes
    signature: str
    token: str
    documented_params: Any

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The form as a web framework reads it: every pair, in order."""
        return form_pairs(self.body)

    @property
    def params(self) -> dict[str, str]:
        return dict(self.pairs)


def form_pairs(raw: bytes) -> list[tuple[str, str]]:
    return parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)


def load(name: str) -> Recorded:
    request = json.loads((PAYLOADS / f"{name}.request.json").read_text(encoding="utf-8"))
    return Recorded(
        name=name,
        url=request["url"],
        body=(PAYLOADS / request["body_file"]).read_bytes(),
        signature=request["headers"]["X-Twilio-Signature"],
        token=request["signing"]["auth_token_used"],
        documented_params=request.get("params"),
    )


_ALL = sorted(path.name.removesuffix(".request.json") for path in PAYLOADS.glob("*.request.json"))
#: Form-encoded requests (every one but the JSON body).
FORMS = [name for name in _ALL if load(name).documented_params is not None]
JSON_BODIES = [name for name in _ALL if name not in FORMS]
VOICE = [name for name in FORMS if name.startswith("voice_")]
