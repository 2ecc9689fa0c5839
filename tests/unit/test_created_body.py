"""A created resource's body is written by pydantic in one step, byte for byte what
FastAPI's encoder and ``JSONResponse`` wrote."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from opencx.features.conversations import AttachmentOut, MessageOut
from opencx.web.idempotent import _Written


def test_the_body_is_what_the_encoder_wrote() -> None:
    at = datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC)
    message = MessageOut.model_validate(
        {
            "id": 1,
            "conversation_id": 2,
            "interaction_id": None,
            "channel": "email",
            "direction": "outbound",
            "author_kind": "agent",
            "author_user_id": 3,
            "body_text": 'Où est ma commande ?\u2028 "guillemets" </script> 😀',
            "body_html": "<p>é</p>",
            "provider_message_id": None,
            "delivery_status": "queued",
            "delivery_error": None,
            "metadata": {"subject": "Sujet é", "cc": "a@example.com, b@example.com"},
            "created_at": at,
            "attachments": [
                AttachmentOut(
                    id=4,
                    conversation_id=2,
                    message_id=1,
                    filename="reçu.pdf",
                    content_type="application/pdf",
                    size=10,
                    sha256="0" * 64,
                    inline=False,
                    created_at=at,
                )
            ],
        }
    )
    written = _Written(message, status_code=201)
    encoded = JSONResponse(jsonable_encoder(message), status_code=201)
    assert written.body == encoded.body
    assert written.headers["content-type"] == encoded.headers["content-type"]
    assert written.status_code == 201
