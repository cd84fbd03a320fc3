"""The words people see for the states and codes stored in the database."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS = {
    "visibility": {"hidden": _l("hidden"), "live": _l("live (provisional)"),
                   "frozen": _l("frozen"), "published": _l("published")},
    "state": {"setup": _l("setting up"), "registration": _l("registration"),
              "drawn": _l("lots drawn"), "scoring": _l("scoring"), "locked": _l("locked"),
              "provisional": _l("provisional (appeal window)"), "published": _l("published")},
    "status": {"ok": _l("ok"), "absent": _l("absent"), "dq": _l("disqualified")},
    "role": {"organiser": _l("organiser"), "chief": _l("chief judge"), "judge": _l("judge"),
             "arbiter": _l("arbiter")},
    "source": {"import": _l("import"), "judge": _l("judge"), "chief": _l("chief judge"),
               "demo": _l("demo")},
    "appeal": {"received": _l("received"), "dismissed": _l("dismissed"),
               "recheck": _l("re-check ordered"), "changed": _l("re-checked: marks changed"),
               "unchanged": _l("re-checked: marks unchanged")},
}


def label(kind: str, code: str) -> str:
    return str(LABELS[kind].get(code, code))


def init_app(app: Flask) -> None:
    for kind in LABELS:
        app.add_template_global(lambda code, kind=kind: label(kind, code), f"{kind}_label")
