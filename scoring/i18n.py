"""The interface language: Chinese by default, English when a person or the CLI asks."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request

from flask_babel import refresh

from .extensions import babel

LOCALES = ("zh_CN", "en")


def select_locale() -> str:
    """On the web: the person's choice (?lang= or the cookie), else Chinese. On the command
    line: SCORING_LOCALE, else Chinese."""
    if has_request_context():
        chosen = request.args.get("lang") or request.cookies.get("lang")
        return chosen if chosen in LOCALES else "zh_CN"
    configured = current_app.config.get("SCORING_LOCALE")
    return configured if configured in LOCALES else "zh_CN"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on the app context, which a request may share with the
    # command or test around it: choose afresh for every request.
    app.before_request(refresh)

    @app.context_processor
    def locale_context() -> dict[str, object]:
        return {"current_locale": select_locale(), "locales": LOCALES}
