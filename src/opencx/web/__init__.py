"""HTTP: the app factory, thin API routes, pages, WebSockets, and error mapping."""

from opencx.web.app import create_app

__all__ = ["create_app"]
