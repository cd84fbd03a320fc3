"""The web layer: one blueprint per area (public pages, boards, API, sign-in, judging, the
chief judge's pages, the console, exports). Views parse, ask policy, call an operation or a
query, commit once and render; they hold no rule of their own."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from ..extensions import db
from . import public_paths

# What an error page says, in the visitor's language (werkzeug's own pages are English).
ERRORS = {
    400: (_l("Bad request"), _l("The request could not be understood: reload the page and "
                                "try again.")),
    403: (_l("Not allowed"), _l("Your account may not open this page or do this here.")),
    404: (_l("Not found"), _l("There is no such page: check the address.")),
    405: (_l("Not allowed"), _l("This page cannot be used this way.")),
    413: (_l("Too large"), _l("What was sent is too large.")),
    429: (_l("Too many requests"), _l("Too many requests: wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("The server could not answer. Try again; if it "
                                         "happens again, tell the organisers.")),
}


def init_app(app: Flask) -> None:
    from ..extensions import csrf
    from . import admin, api, appeals, auth, board, chief, exports, judging, public

    for module in (public, api, board, auth, judging, chief, admin, exports, appeals):
        app.register_blueprint(module.bp)
    csrf.exempt(api.bp)  # read-only GETs
    auth.init_app(app)
    app.register_error_handler(HTTPException, error_page)
    public_paths.init_app(app)


def error_page(error: HTTPException) -> ResponseReturnValue:
    """An HTTP error in words the visitor reads: JSON on the API, one line for htmx (shown
    where the page put it), else a page with a way back."""
    code = error.code or 500
    if code >= 500:
        db.session.rollback()  # the failed request's transaction: the page reads the session
    title, text = ERRORS.get(code, ERRORS[500] if code >= 500 else ERRORS[400])
    if request.path.startswith("/api/"):
        return jsonify({"error": (error.name or "error").lower()}), code
    if request.headers.get("HX-Request") == "true":
        return str(text), code
    return render_template("error.html", code=code, title=title, text=text,
                           public=public_paths.is_public(request.path)), code
