"""The web layer: one blueprint per area (public pages, boards, API, sign-in, judging, the
chief judge's pages, the console, exports). Views parse, ask policy, call an operation or a
query, commit once and render; they hold no rule of their own."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..extensions import csrf
    from . import admin, api, auth, board, chief, exports, judging, public

    for module in (public, api, board, auth, judging, chief, admin, exports):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # read-only GETs
    auth.init_app(app)
