"""Authentication: passwords, API tokens, sessions' principals, login rate limiting."""

from opencx.features.auth.passwords import hash_password, verify_password
from opencx.features.auth.principals import load_principal
from opencx.features.auth.ratelimit import LoginRateLimiter
from opencx.features.auth.service import authenticate_password, authenticate_token
from opencx.features.auth.sessions import (
    authenticate_session,
    end_session,
    end_user_access,
    start_session,
)
from opencx.features.auth.tokens import (
    TokenOut,
    create_api_token,
    list_api_tokens,
    revoke_api_token,
)

__all__ = [
    "LoginRateLimiter",
    "TokenOut",
    "authenticate_password",
    "authenticate_session",
    "authenticate_token",
    "create_api_token",
    "end_session",
    "end_user_access",
    "hash_password",
    "list_api_tokens",
    "load_principal",
    "revoke_api_token",
    "start_session",
    "verify_password",
]
