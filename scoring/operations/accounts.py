"""Writes on accounts: creating, disabling, resetting; judges' assignments; QR sign-in links;
and the server-side sessions that every request is checked against."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import select, update

from ..extensions import db
from ..inputs import text_problem
from ..models import Assignment, Criterion, Event, SignInLink, User, UserSession, utcnow
from ..problems import InputError, Problem
from . import audit, lock_event, require


def create_user(username: str, role: str, password: str | None, actor: str,
                display_name: str | None = None, delegation: str | None = None
                ) -> tuple[User, str]:
    """A new account; returns it with its password (generated when none is given)."""
    problems = []
    if not username or len(username) > 80 or any(char.isspace() for char in username) \
            or text_problem(username) or not plain_name(username):
        problems.append(Problem(_("an account name is 1 to 80 characters without spaces"),
                                field="NAME"))
    elif name_taken(username):
        problems.append(Problem(_("the account “%(name)s” already exists", name=username),
                                field="NAME"))
    if role not in ("organiser", "chief", "judge", "arbiter"):
        problems.append(Problem(_("the role must be organiser, chief, judge or arbiter"),
                                field="--role"))
    for value, field in ((display_name, "--display-name"), (delegation, "--delegation")):
        problem = text_problem(value, 100) if value is not None else None
        if problem:
            problems.append(Problem(problem, field=field))
    if password is not None:
        try:
            check_password_text(password)
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    password = password or generate_password()
    user = User(username=username, role=role, display_name=display_name or username,
                delegation=delegation)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user.create", actor, user=user, username=username, role=role)
    return user, password


MAX_NEW_ACCOUNTS = 100  # accounts made at once from a pasted list


def create_users(text: str, role: str, actor: str) -> list[tuple[User, str]]:
    """Several accounts of one role from lines pasted from a spreadsheet, one per line:
    account name, then the name people see and the own delegation (optional), separated by a
    tab (cells copied from Excel or WPS) or a comma. Every line is checked as create_user
    checks one, and a problem names its line; any problem and none is made (the caller
    rolls back the accounts made before the line at fault)."""
    lines = [(number, line) for number, line in
             enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1)
             if line.strip()]
    if not lines:
        raise InputError(Problem(_("Paste one account per line."), field="accounts"))
    if role not in ("organiser", "chief", "judge", "arbiter"):
        raise InputError(Problem(_("the role must be organiser, chief, judge or arbiter"),
                                 field="--role"))
    if len(lines) > MAX_NEW_ACCOUNTS:
        raise InputError(Problem(_("at most %(count)s accounts at once",
                                   count=MAX_NEW_ACCOUNTS), field="accounts"))
    made, problems = [], []
    for number, line in lines:
        cells = [cell.strip() for cell in re.split(r"[\t,，]", line)]
        if len(cells) > 3:
            problems.append(Problem(_("at most three columns: account, name, delegation"),
                                    row=number))
            continue
        username, display_name, delegation = (cells + ["", ""])[:3]
        try:  # create_user writes nothing when it refuses; the caller rolls back the rest
            made.append(create_user(username, role, None, actor, display_name or None,
                                    delegation or None))
        except InputError as error:
            problems.extend(Problem(problem.message, row=number) for problem in error.problems)
    if problems:
        raise InputError(problems)
    return made


def plain_name(username: str) -> bool:
    """An account name that reads as it is: in Unicode's compatibility form (no fullwidth
    ｊｕｄｇｅ) and without combining marks (no judge1 with an accent on the 1)."""
    return unicodedata.normalize("NFKC", username) == username and not any(
        unicodedata.category(char).startswith("M") for char in username)


def name_taken(username: str) -> bool:
    """Is an account named so, or so but for case (Judge1 beside judge1)?"""
    folded = username.casefold()
    return any(name.casefold() == folded for name in db.session.scalars(select(User.username)))


def check_password_text(password: str, field: str = "--password") -> None:
    if len(password) < 8:
        raise InputError(Problem(_("a password needs at least 8 characters"), field=field))
    if len(password) > 200:
        raise InputError(Problem(_("longer than %(limit)s characters", limit=200), field=field))


def generate_password() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def assign_judge(event: Event, username: str, codes: Iterable[str], actor: str,
                 by: User | None = None) -> list[str]:
    lock_event(event)
    require("assign", event, by, field="EVENT")
    user = db.session.scalar(select(User).where(User.username == username))
    problems = []
    if user is None:
        problems.append(Problem(_("no account named “%(name)s”", name=username),
                                field="JUDGE"))
    elif user.role not in ("judge", "chief"):
        problems.append(Problem(_("“%(name)s” is not a judge's account", name=username),
                                field="JUDGE"))
    criteria = {criterion.code: criterion for criterion in event.criteria}
    for code in codes:
        if code not in criteria:
            problems.append(Problem(_(
                "unknown criterion “%(code)s” (this event has %(codes)s)",
                code=code, codes=", ".join(criteria)), field="CRITERION"))
    if problems:
        raise InputError(problems)
    assert user is not None
    assigned = {assignment.criterion_id for assignment in db.session.scalars(
        select(Assignment).where(Assignment.user_id == user.id))}
    added = []
    for code in dict.fromkeys(codes):
        criterion = criteria[code]
        if criterion.id not in assigned:
            db.session.add(Assignment(user=user, criterion=criterion))
            added.append(code)
    db.session.flush()
    audit("judge.assign", actor, event, user=user, criteria=added)
    return added


def set_assignments(event: Event, user: User, codes: set[str], actor: str,
                    by: User | None = None) -> None:
    """The criteria of `event` that `user` marks, exactly `codes`."""
    lock_event(event)
    require("assign", event, by)
    criteria = {criterion.code: criterion for criterion in event.criteria}
    current = {assignment.criterion.code: assignment for assignment in db.session.scalars(
        select(Assignment).join(Criterion).where(Assignment.user_id == user.id,
                                                 Criterion.event_id == event.id))}
    for code in codes - set(current):
        db.session.add(Assignment(user=user, criterion=criteria[code]))
    for code in set(current) - codes:
        db.session.delete(current[code])
    if codes != set(current):
        audit("judge.assign", actor, event, user=by, judge=user.username,
              criteria=sorted(codes))
    db.session.flush()


# --- disabling and resetting ------------------------------------------------------------------

def set_active(user: User, active: bool, actor: str, by: User | None = None) -> None:
    """Disable an account (its sessions end at once, its links stop working) or enable it."""
    if by is not None and by.id == user.id and not active:
        raise InputError(Problem(_("You cannot disable your own account."), field="NAME"))
    user.active = active
    if not active:
        end_sessions(user)
        revoke_links(user)
    audit("user.enable" if active else "user.disable", actor, user=user, username=user.username)
    db.session.flush()


def reset_password(user: User, password: str | None, actor: str) -> str:
    """A new password (generated when none is given); every session of the account ends."""
    if password is not None:
        check_password_text(password)
    password = password or generate_password()
    user.set_password(password)
    end_sessions(user)
    revoke_links(user)
    audit("user.reset", actor, user=user, username=user.username)
    db.session.flush()
    return password


# --- sign-in links (QR cards) and sessions ------------------------------------------------------

def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_sign_in_link(user: User, hours: int, actor: str) -> str:
    """A new sign-in token for a judge's account, valid for `hours`; only its hash is kept.
    Only judges get links: a card found on a tablet must never open a chief judge's or an
    organiser's powers."""
    if user.role != "judge" or not user.active:
        raise InputError(Problem(_("Sign-in cards are for active judges' accounts only: "
                                   "“%(name)s” signs in with a password.",
                                   name=user.username), field="NAME"))
    token = secrets.token_urlsafe(24)
    db.session.add(SignInLink(user=user, token_hash=token_hash(token),
                              expires_at=utcnow() + timedelta(hours=hours)))
    audit("link.create", actor, user=user, hours=hours)
    return token


def revoke_sign_in_links(user: User, actor: str) -> int:
    """Revoke the account's links, and end the sessions they opened."""
    count = revoke_links(user)
    audit("link.revoke", actor, user=user, count=count)
    return count


def revoke_links(user: User) -> int:
    links = db.session.scalars(select(SignInLink).where(
        SignInLink.user_id == user.id, SignInLink.revoked_at.is_(None))).all()
    now = utcnow()
    for link in links:
        link.revoked_at = now
    db.session.execute(update(UserSession).where(
        UserSession.link_id.in_(select(SignInLink.id).where(SignInLink.user_id == user.id)),
        UserSession.ended_at.is_(None)).values(ended_at=now))
    return len(links)


def valid_link(token: str) -> SignInLink | None:
    if not token or len(token) > 100:
        return None
    link = db.session.scalar(select(SignInLink).where(SignInLink.token_hash == token_hash(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow() \
            or not link.user.active or link.user.role != "judge":
        return None
    return link


def start_session(user: User, link: SignInLink | None = None) -> str:
    """A new server-side session for `user`: the token goes in the cookie, its hash here."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=token_hash(token),
                               link_id=link.id if link else None))
    return token


def session_user(token: str) -> User | None:
    """The active account of a live session, or None (ended, unknown, disabled)."""
    if not token or len(token) > 100:
        return None
    found = db.session.execute(
        select(User, UserSession.link_id).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None),
               User.active)).first()
    if found is None:
        return None
    user, link_id = found
    if link_id is not None:
        link = db.session.get(SignInLink, link_id)
        if link is None or link.revoked_at is not None or user.role != "judge":
            return None
    user.__dict__["_session_token"] = token
    user.__dict__.pop("_chief_of", None)  # read afresh once per request
    return user


def end_session(token: str) -> None:
    db.session.execute(update(UserSession).where(
        UserSession.token_hash == token_hash(token), UserSession.ended_at.is_(None))
        .values(ended_at=utcnow()))


def end_sessions(user: User) -> None:
    db.session.execute(update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow()))
