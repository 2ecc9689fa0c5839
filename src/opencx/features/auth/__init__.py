"""Authentication: passwords, API tokens, sessions' principals, login rate limiting."""

from opencx.features.auth.passwords import hash_password, verify_password
from opencx.features.auth.principals import load_principal
from opencx.features.auth.ratelimit import LoginRateLimiter
from opencx.features.auth.service import authenticate_password, authenticate_token
from opencx.features.auth.tokens import create_api_token, revoke_api_token

__all__ = [
    "LoginRateLimiter",
    "authenticate_password",
    "authenticate_token",
    "create_api_token",
    "hash_password",
    "load_principal",
    "revoke_api_token",
    "verify_password",
]
