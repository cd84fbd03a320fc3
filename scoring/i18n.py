"""The interface language: Chinese by default, English when a person or the CLI asks."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, request

from flask_babel import refresh

from .extensions import babel

LOCALES = ("zh_CN", "en")


ALIASES = {"zh": "zh_CN", "zh_CN": "zh_CN", "zh-CN": "zh_CN", "en": "en"}
PUBLIC_PREFIXES = ("/e/", "/api/", "/verify/")


def is_public(path: str) -> bool:
    """The public's pages and API (web/public_paths.py): the same for everyone, so that a
    shared cache can keep them; their language comes from the address only."""
    return path == "/" or path.startswith(PUBLIC_PREFIXES)


def select_locale() -> str:
    """On the web: the person's choice (?lang=zh|en, or on staff pages the cookie the
    language switch sets), else Chinese; a public page reads the URL only, so that a shared
    cache keeps one copy per language. On the command line: SCORING_LOCALE, else Chinese."""
    if has_request_context():
        chosen = request.args.get("lang")
        if not chosen and not is_public(request.path):
            chosen = request.cookies.get("lang")
        return ALIASES.get(chosen or "", "zh_CN")
    configured = current_app.config.get("SCORING_LOCALE")
    return configured if configured in LOCALES else "zh_CN"


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the locale on the app context, which a request may share with the
    # command or test around it: choose afresh for every request.
    app.before_request(refresh)

    @app.context_processor
    def locale_context() -> dict[str, object]:
        locale = select_locale()
        # What a public page's own links and polls carry to keep its language: ?lang=en
        # (Chinese, the default, needs nothing).
        return {"current_locale": locale, "locales": LOCALES,
                "public_lang": "en" if locale == "en" else None}
