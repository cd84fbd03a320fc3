"""Which requests are the public's: the pages and API anyone may open, served the same to
everyone so that a shared cache (nginx, a CDN) can keep them. For those the session cookie
is neither read nor set, the language comes from the URL (`?lang=en`), and the responses
say how long a shared cache may keep them; every other response is private and uncached."""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from ..i18n import is_public

__all__ = ["SessionInterface", "init_app", "is_public", "public_cache_control"]


class SessionInterface(SecureCookieSessionInterface):
    """The signed cookie session, except on public paths: there an empty session that is
    never saved (a signed-in organiser gets the same board as anyone, and no Set-Cookie)."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_public(request.path):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if is_public(request.path):
            return
        super().save_session(app, session, response)


def public_cache_control() -> str:
    config = current_app.config
    return (f"public, max-age={int(config['SCORING_PUBLIC_MAX_AGE'])}, "
            f"stale-while-revalidate={int(config['SCORING_PUBLIC_STALE'])}")


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()

    @app.after_request
    def cache_control(response: Response) -> Response:
        """Public pages that did not say otherwise may be kept briefly by a shared cache;
        staff pages never (they hold names, marks, tokens)."""
        if "Cache-Control" in response.headers or request.path.startswith("/static/"):
            return response
        if is_public(request.path) and response.status_code == 200:
            response.headers["Cache-Control"] = public_cache_control()
            response.vary.discard("Cookie")
        elif is_public(request.path):
            # An error or a redirect: the same for everyone too, kept no longer than a page
            # (a board made visible again shows within the max-age), never served stale.
            response.headers["Cache-Control"] = \
                f"public, max-age={int(current_app.config['SCORING_PUBLIC_MAX_AGE'])}"
            response.vary.update(("HX-Request", "Accept-Encoding"))
            response.vary.discard("Cookie")
        else:
            response.headers["Cache-Control"] = "private, no-store"
        return response
