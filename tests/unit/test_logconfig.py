from opencx.structured_logging import REDACTED, redact_secrets


def test_secret_looking_keys_are_redacted_and_others_kept() -> None:
    event = {
        "event": "login",
        "password": "hunter2",
        "api_token": "ocx_abc",
        "Authorization": "Bearer x",
        "email": "a@b.c",
    }
    out = redact_secrets(None, "info", event)
    assert out["password"] == out["api_token"] == out["Authorization"] == REDACTED
    assert out["email"] == "a@b.c"
    assert out["event"] == "login"
