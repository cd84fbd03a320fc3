"""The audit log in words: each record's action as a label and its details as "key: value"
pairs, in the reader's language, for the console's audit page and the XLSX audit sheet. The
stored record (action code, JSON details) stays as it is, for machines; people read this.

Values that are codes are said in words: states, visibility, roles and steps through their
labels, criteria as "P1 外观检验", accounts by their display name with the account name
after it. Nested values (a draw's result, a list of changes) are summed up, never dumped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .labels import label
from .models import AuditEvent, Criterion, Entry, User

# Every action code passed to operations.audit (tests/test_progress_audit.py greps them all),
# and the mark revisions the XLSX audit sheet lists beside them (mark.SOURCE).
ACTIONS = {
    "competition.create": _l("Competition created"),
    "event.create": _l("Event created"),
    "event.update": _l("Event scheme updated"),
    "event.rename": _l("Event renamed"),
    "event.state": _l("State changed"),
    "event.chief": _l("Chief judge appointed"),
    "board.visibility": _l("Board visibility changed"),
    "draw": _l("Lots drawn"),
    "codes.assign": _l("Blind codes made"),
    "codes.export": _l("Sealed code list printed"),
    "criterion.decode": _l("Criterion decoded"),
    "contestants.import": _l("Contestants imported"),
    "bibs.assign": _l("Bibs given"),
    "entries.update": _l("Statuses and times updated"),
    "entry.update": _l("Contestant edited"),
    "scores.import": _l("Marks imported"),
    "mark.save": _l("Mark saved"),
    "mark.correct": _l("Mark corrected by the chief judge"),
    "spread.confirm": _l("Judgement levels confirmed by the chief judge"),
    "mark.judge": _l("Mark entered by a judge"),
    "mark.import": _l("Mark from an import"),
    "mark.demo": _l("Mark entered (demo)"),
    "mark.chief": _l("Mark corrected by the chief judge"),
    "sheet.sign": _l("Sheet signed"),
    "judge.assign": _l("Judge assigned to criteria"),
    "user.create": _l("Account created"),
    "user.enable": _l("Account enabled"),
    "user.disable": _l("Account disabled"),
    "user.reset": _l("Password reset"),
    "user.login": _l("Signed in"),
    "user.logout": _l("Signed out"),
    "link.create": _l("Sign-in link made"),
    "link.revoke": _l("Sign-in links revoked"),
    "results.export": _l("Results exported"),
    "analytics.export": _l("Judge analytics exported"),
    "certificates.issue": _l("Certificates issued"),
    "certificates.export": _l("Certificates printed"),
    "demo.load": _l("Demo loaded"),
    "event.arbiter": _l("Arbiter appointed"),
    "appeal.file": _l("Appeal received"),
    "appeal.rule": _l("Appeal ruled on"),
    "appeal.export": _l("Appeal file printed"),
    "mark.recheck": _l("Mark changed in a re-check"),
}

KEYS = {
    "file": _l("File"), "step": _l("Stage"), "old": _l("Before"), "new": _l("After"),
    "via": _l("Through"), "rows": _l("Rows"), "created": _l("Created"),
    "changed": _l("Changed"), "seed": _l("Seed"), "result": _l("Result"),
    "count": _l("Count"), "fingerprint": _l("Fingerprint"), "criterion": _l("Criterion"),
    "criteria": _l("Criteria"), "judge": _l("Judge"), "chief": _l("Chief judge"),
    "username": _l("Account"), "role": _l("Role"), "marks": _l("Marks"),
    "reason": _l("Reason"), "format": _l("Format"), "address": _l("Address"),
    "hours": _l("Valid for (hours)"), "revoked": _l("Revoked"), "valid": _l("Valid"),
    "changes": _l("Changes"), "bib": _l("Bib"), "before": _l("Before"),
    "status": _l("Status"), "time": _l("Time used"), "name": _l("Name"),
    "competition": _l("Competition"), "contestants": _l("Contestants"),
    "visibility": _l("Board"), "data_seed": _l("Data seed"), "draw_seed": _l("Draw seed"),
    "preview": _l("Preview"), "station": _l("Station"), "order": _l("Order"),
    "contestant": _l("Contestant"), "bibs": _l("Bibs"), "levels": _l("Levels"),
    "appeal": _l("Appeal"), "arbiter": _l("Arbiter"), "ruling": _l("Ruling"),
    "delegation": _l("Delegation"), "text": _l("Text"), "window_ends": _l("Window ends"),
    "appeal_hours": _l("Appeal window (hours)"),
}

STEPS = {
    "open": _l("open scoring"), "lock": _l("lock scoring"), "publish": _l("publish"),
    "reopen": _l("reopen scoring"), "draw": _l("the draw"), "register": _l("registration"),
    "import_scores": _l("import of marks"), "recode": _l("new codes (two-stage coding)"),
    "decode": _l("decoding"), "provisional": _l("provisional publication"),
}

VIA = {"web": _l("the console"), "cli": _l("the command line"), "link": _l("a sign-in link")}

ACCOUNT_KEYS = {"judge", "chief", "username", "arbiter"}


def action_label(code: str) -> str:
    """The action in words (an unknown code as it is)."""
    known = ACTIONS.get(code)
    return str(known) if known is not None else code


def key_label(key: str) -> str:
    known = KEYS.get(key)
    return str(known) if known is not None else key.replace("_", " ")


class Namer:
    """Says accounts and criteria in words, looking each up once."""

    def __init__(self, users: Mapping[str, str | None],
                 criteria: Mapping[tuple[int, str], str]) -> None:
        self.users = users  # account name -> display name
        self.criteria = criteria  # (event id, criterion code) -> name
        self.event_id: int | None = None  # the event of the record being said

    def person(self, account: str | None) -> str:
        """"张裁判 (judge1)": the display name, then the account name; the account name alone
        when it has no display name (or is not an account: "cli:FILE", an import's label)."""
        if not account:
            return "—"
        shown = self.users.get(account)
        return f"{shown} ({account})" if shown and shown != account else account

    def criterion(self, code: Any) -> str:
        name = self.criteria.get((self.event_id or 0, str(code)))
        return f"{code} {name}" if name else str(code)


def listing(items: Any) -> str:
    """Items in a row: "P1、P2" in Chinese, "P1, P2" in English."""
    locale = get_locale()
    separator = "、" if locale is not None and locale.language == "zh" else ", "
    return separator.join(items) or "—"


def namer(event_ids: set[int | None] | None = None) -> Namer:
    """A Namer knowing every account's display name and the criteria of these events (of
    every event when None)."""
    users = dict(db.session.execute(select(User.username, User.display_name)).all())
    query = select(Criterion.event_id, Criterion.code, Criterion.name)
    if event_ids is not None:
        query = query.where(Criterion.event_id.in_({i for i in event_ids if i is not None}))
    return Namer(users, {(event_id, code): name for event_id, code, name
                         in db.session.execute(query).all()})


def plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    return str(value)


def value_text(action: str, key: str, value: Any, namer: Namer) -> str:
    """One detail's value in words."""
    if key in ACCOUNT_KEYS and isinstance(value, str):
        return namer.person(value)
    if key == "criterion":
        return namer.criterion(value)
    if key == "criteria" and isinstance(value, list):
        return listing(namer.criterion(code) for code in value)
    if key in ("old", "new") and action == "event.state" and isinstance(value, str):
        return label("state", value)
    if key in ("old", "new", "visibility") and action in ("board.visibility", "demo.load") \
            and isinstance(value, str):
        return label("visibility", value)
    if key == "status" and isinstance(value, str):
        return label("status", value)
    if key == "role" and isinstance(value, str):
        return label("role", value)
    if key == "ruling" and isinstance(value, str):
        return label("appeal", value)
    if key == "step" and isinstance(value, str):
        return str(STEPS.get(value, value))
    if key == "via" and isinstance(value, str):
        return str(VIA.get(value, value))
    if key == "window_ends" and isinstance(value, str):
        try:  # stored as the UTC time's text: said in the competition's local time
            return format_datetime(datetime.fromisoformat(value), "yyyy-MM-dd HH:mm")
        except ValueError:
            return value
    if key == "format" and isinstance(value, str):
        return value.upper()
    if key == "result" and action == "draw" and isinstance(value, dict):
        return _("station and order of %(count)s contestants (see the draw record)",
                 count=len(value))
    if key == "changes" and isinstance(value, list):
        return change_list(value)
    if isinstance(value, dict):
        return "; ".join(f"{key_label(inner)} {value_text(action, inner, item, namer)}"
                         for inner, item in value.items())
    if isinstance(value, list):
        return listing(plain(item) for item in value)
    return plain(value)


def change_list(changes: list[Any], shown: int = 5) -> str:
    """entries.update's changes: "01: status ok → absent; time — → 10069", the first few."""
    lines = []
    for change in changes[:shown]:
        if not isinstance(change, dict):
            lines.append(plain(change))
            continue
        parts = []
        for key in ("status", "time"):
            before_after = change.get(key)
            if isinstance(before_after, list) and len(before_after) == 2 \
                    and before_after[0] != before_after[1]:
                old, new = (label("status", item) if key == "status" and item else plain(item)
                            for item in before_after)
                parts.append(f"{key_label(key)} {old} → {new}")
        lines.append(f"{change.get('bib', '')}: {', '.join(parts) or '—'}")
    if len(changes) > shown:
        lines.append(_("and %(count)s more", count=len(changes) - shown))
    return _("%(count)s contestants", count=len(changes)) + " (" + "; ".join(lines) + ")"


def details_pairs(action: str, details: Mapping[str, Any], namer: Namer,
                  event_id: int | None = None, bib: str | None = None) -> list[tuple[str, str]]:
    """The record's details as (key, value) pairs in words; `bib`: the contestant the record
    concerns, when the reader may see it."""
    namer.event_id = event_id
    pairs = [(key_label("contestant"), bib)] if bib and "bib" not in details else []
    for key, value in details.items():
        pairs.append((key_label(key), value_text(action, key, value, namer)))
    return pairs


def details_text(pairs: list[tuple[str, str]]) -> str:
    """The pairs on one line: "Step: lock scoring; Before: scoring; After: locked"."""
    return "; ".join(f"{key}: {value}" for key, value in pairs)


def said(records: list[AuditEvent]) -> tuple[Namer, list[tuple[AuditEvent, str, str, list[tuple[str, str]]]]]:
    """Audit records as people read them (the console's audit log, the chief judge's history):
    (record, who in words, the action in words, the details as pairs); and the Namer, which
    says any other account or criterion of these records' events."""
    namer_ = namer({record.event_id for record in records})
    bibs = dict(db.session.execute(select(Entry.id, Entry.bib).where(
        Entry.id.in_({record.entry_id for record in records if record.entry_id}))).all())
    accounts = dict(db.session.execute(select(User.id, User.username).where(
        User.id.in_({record.user_id for record in records if record.user_id}))).all())
    rows = []
    for record in records:
        details = record.details
        if record.action == "judge.assign" and "judge" not in details and record.user_id:
            details = {"judge": accounts.get(record.user_id), **details}  # the judge's own
        rows.append((record, namer_.person(record.actor), action_label(record.action),
                     details_pairs(record.action, details, namer_, record.event_id,
                                   bibs.get(record.entry_id))))
    return namer_, rows
