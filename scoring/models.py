"""The database schema: competitions, events and their schemes, contestants, judges, marks.

The rules that keep marks honest are in the schema too: a mark is unique per
(entry, criterion, judge), never negative, and every value it ever had is a MarkRevision.
"""

from __future__ import annotations

import functools
import json
import secrets
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text,
    UniqueConstraint, select, text, true as sa_true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator
from werkzeug.security import check_password_hash, generate_password_hash

from . import rules
from .extensions import db

MARK_SCALE = 10_000  # marks, maxima and steps are stored in ten-thousandths, exactly


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal with up to four places, stored as an integer so SQLite keeps it exact."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value) * MARK_SCALE
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than four decimal places")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else from_units(value)


@functools.lru_cache(maxsize=65536)
def from_units(value: int) -> Decimal:
    """A stored ten-thousandths integer as the Decimal it stands for (the same few marks
    recur by the thousand, hence the cache; a Decimal is immutable, so sharing is safe)."""
    number = (Decimal(value) / MARK_SCALE).normalize()
    # 900000 is 90, not 9E+1
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


EVENT_STATES = ("setup", "registration", "drawn", "scoring", "locked", "provisional",
                "published")
VISIBILITIES = ("hidden", "live", "frozen", "published")
ROLES = ("organiser", "chief", "judge", "arbiter")
# An appeal: received; the arbiters dismiss it, or order a re-check and, after it, record
# their final ruling: changed (the re-check changed a mark) or unchanged.
APPEAL_STATUSES = ("received", "dismissed", "recheck", "changed", "unchanged")


class Competition(db.Model):
    __tablename__ = "competitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    events: Mapped[list[Event]] = relationship(back_populates="competition",
                                               order_by="Event.id")


class Event(db.Model):
    """One 赛项 with its scheme; `results_version` changes whenever a result may change."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(f"state IN {EVENT_STATES}", name="event_state"),
        CheckConstraint(f"visibility IN {VISIBILITIES}", name="event_visibility"),
        CheckConstraint("decimals >= 0 AND decimals <= 6", name="event_decimals"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default="setup")
    visibility: Mapped[str] = mapped_column(String(20), default="hidden")
    decimals: Mapped[int] = mapped_column(Integer, default=2)
    rounding: Mapped[str] = mapped_column(String(10), default="stage")
    award_rounding: Mapped[str] = mapped_column(String(10), default="half_up")
    tie_break_json: Mapped[str] = mapped_column(Text, default="[]")
    team_best_n: Mapped[int | None] = mapped_column(Integer)
    draw_seed: Mapped[int | None] = mapped_column(BigInteger)
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    results_version: Mapped[int] = mapped_column(Integer, default=1)
    results_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # "Updated" on boards
    # While the board is frozen, the public sees the results as they were at frozen_at.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    frozen_json: Mapped[str | None] = mapped_column(Text)
    # Judges may not mark entries of the delegation on their account (conflict of interest).
    conflict_check: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    # The appeal window (scheme key appeal_hours) after the provisional publication, which
    # started at provisional_at (None: not provisional now).
    appeal_hours: Mapped[int] = mapped_column(Integer, default=2, server_default=text("2"))
    provisional_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    competition: Mapped[Competition] = relationship(back_populates="events")
    sections: Mapped[list[Section]] = relationship(
        back_populates="event", order_by="Section.position", cascade="all, delete-orphan")
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="event", order_by="Criterion.position", cascade="all, delete-orphan")
    awards: Mapped[list[AwardTierRow]] = relationship(
        order_by="AwardTierRow.position", cascade="all, delete-orphan")
    entries: Mapped[list[Entry]] = relationship(back_populates="event")

    @property
    def tie_break(self) -> list[str]:
        return json.loads(self.tie_break_json)

    @tie_break.setter
    def tie_break(self, keys: list[str]) -> None:
        self.tie_break_json = json.dumps(list(keys))

    @property
    def appeal_window_ends_at(self) -> datetime | None:
        """When the appeal window closes (None: the results are not provisional)."""
        if self.provisional_at is None:
            return None
        return self.provisional_at + timedelta(hours=self.appeal_hours)

    def to_scheme(self) -> rules.Scheme:
        """The event's scheme as the rules module takes it."""
        return rules.Scheme(
            code=self.code,
            name=self.name,
            decimals=self.decimals,
            rounding=self.rounding,
            award_rounding=self.award_rounding,
            tie_break=tuple(self.tie_break),
            team_best_n=self.team_best_n,
            sections=tuple(rules.SectionRule(s.code, s.name) for s in self.sections),
            criteria=tuple(c.to_rule() for c in self.criteria),
            awards=tuple(a.to_rule() for a in self.awards),
        )


class Section(db.Model):
    __tablename__ = "sections"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="sections")


class Criterion(db.Model):
    __tablename__ = "criteria"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("max_value > 0", name="criterion_max"),
        CheckConstraint("step IS NULL OR step > 0", name="criterion_step"),
        CheckConstraint("judges >= 1", name="criterion_judges"),
        CheckConstraint(f"aggregate IN {rules.AGGREGATE_RULES}", name="criterion_aggregate"),
        CheckConstraint(f"kind IN {rules.KINDS}", name="criterion_kind"),
        CheckConstraint("aggregate <> 'trimmed' OR judges >= 3", name="criterion_trimmed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    max_value: Mapped[Decimal] = mapped_column(ExactDecimal)
    step: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    weight: Mapped[str] = mapped_column(String(40), default="1")  # "0.3" or "7/30", exact
    judges: Mapped[int] = mapped_column(Integer, default=1)
    aggregate: Mapped[str] = mapped_column(String(10), default="mean")
    kind: Mapped[str] = mapped_column(String(20), default="score")
    max_spread: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # judgement: the four level descriptors as a JSON list (None: the standard ones)
    levels_json: Mapped[str | None] = mapped_column(Text)
    # measurement: its bands as a JSON list of [min, max, mark] texts, the range and unit
    bands_json: Mapped[str | None] = mapped_column(Text)
    range_min: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    range_max: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    unit: Mapped[str | None] = mapped_column(String(20))
    # Blind (the default): its marks reach the public results only once decoded (解密).
    blind: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    decoded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decoded_by: Mapped[str | None] = mapped_column(String(80))

    event: Mapped[Event] = relationship(back_populates="criteria")
    section: Mapped[Section | None] = relationship()

    def to_rule(self) -> rules.CriterionRule:
        return rules.CriterionRule(
            code=self.code, name=self.name, section=self.section.code if self.section else "",
            max=self.max_value, step=self.step, weight=rules.parse_fraction(self.weight),
            judges=self.judges, aggregate=self.aggregate, kind=self.kind,
            max_spread=self.max_spread, levels=tuple(self.levels), bands=self.bands,
            range=None if self.range_min is None or self.range_max is None
            else (self.range_min, self.range_max),
            unit=self.unit or "",
        )

    @property
    def levels(self) -> list[str]:
        return json.loads(self.levels_json) if self.levels_json else []

    @levels.setter
    def levels(self, texts: Any) -> None:
        self.levels_json = json.dumps(list(texts), ensure_ascii=False) if texts else None

    @property
    def bands(self) -> tuple[rules.Band, ...]:
        return tuple(rules.Band(Decimal(low), Decimal(high), Decimal(mark))
                     for low, high, mark in json.loads(self.bands_json or "[]"))

    @bands.setter
    def bands(self, bands: Any) -> None:
        self.bands_json = json.dumps([[str(band.min), str(band.max), str(band.mark)]
                                      for band in bands]) if bands else None

    @property
    def public(self) -> bool:
        """Its marks are in the public results: not blind, or decoded."""
        return not self.blind or self.decoded_at is not None


class AwardTierRow(db.Model):
    __tablename__ = "award_tiers"
    __table_args__ = (
        CheckConstraint("(share IS NULL) <> (count IS NULL)", name="award_share_or_count"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(100))
    share: Mapped[str | None] = mapped_column(String(40))  # exact, like a weight
    count: Mapped[int | None] = mapped_column(Integer)
    min_total: Mapped[Decimal | None] = mapped_column(ExactDecimal)

    def to_rule(self) -> rules.AwardTier:
        return rules.AwardTier(
            name=self.name,
            share=None if self.share is None else rules.parse_fraction(self.share),
            count=self.count, min_total=self.min_total,
        )


class Contestant(db.Model):
    """A person. Personal data (ID number, phone) never leaves the organisers' pages."""

    __tablename__ = "contestants"
    __table_args__ = (UniqueConstraint("competition_id", "id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(ForeignKey("competitions.id"))
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(1))  # "M" or "F"
    id_number: Mapped[str | None] = mapped_column(String(18))
    unit: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))


class Entry(db.Model):
    """A contestant in an event: bib, delegation, the draw's station, order and blind code."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("event_id", "bib"),
        UniqueConstraint("event_id", "blind_code"),
        CheckConstraint(f"status IN {rules.STATUSES}", name="entry_status"),
        CheckConstraint("time_used IS NULL OR time_used >= 0", name="entry_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    contestant_id: Mapped[int] = mapped_column(ForeignKey("contestants.id"))
    bib: Mapped[str | None] = mapped_column(String(20))  # None: until the draw gives one
    delegation: Mapped[str | None] = mapped_column(String(100))
    station: Mapped[int | None] = mapped_column(Integer)
    draw_order: Mapped[int | None] = mapped_column(Integer)
    blind_code: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="ok")
    status_reason: Mapped[str | None] = mapped_column(Text)
    time_used: Mapped[int | None] = mapped_column(Integer)  # seconds
    # Names the entry on a non-blind mark sheet (a blind sheet names it by its blind code):
    # random, so nothing on a judge's page leads to its id, bib or registration order.
    sheet_key: Mapped[str] = mapped_column(String(24), unique=True,
                                           default=lambda: secrets.token_urlsafe(12))

    event: Mapped[Event] = relationship(back_populates="entries")
    contestant: Mapped[Contestant] = relationship()
    marks: Mapped[list[Mark]] = relationship(back_populates="entry")


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN {ROLES}", name="user_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(256))
    delegation: Mapped[str | None] = mapped_column(String(100))  # for conflicts of interest
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def set_password(self, password: str) -> None:
        # scrypt, a memory-hard KDF; tests may lower its cost through the setting.
        method = current_app.config.get("SCORING_PASSWORD_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return self.active

    @property
    def chief_of(self) -> frozenset[int]:
        """The ids of the events this account is the chief judge of (read once per request)."""
        known = self.__dict__.get("_chief_of")
        if known is None:
            known = frozenset(db.session.scalars(select(EventStaff.event_id).where(
                EventStaff.user_id == self.id, EventStaff.role == "chief")))
            self.__dict__["_chief_of"] = known
        return known

    @property
    def arbiter_of(self) -> frozenset[int]:
        """The ids of the events this account is in the arbitration group of (仲裁组)."""
        known = self.__dict__.get("_arbiter_of")
        if known is None:
            known = frozenset(db.session.scalars(select(EventStaff.event_id).where(
                EventStaff.user_id == self.id, EventStaff.role == "arbiter")))
            self.__dict__["_arbiter_of"] = known
        return known

    def get_id(self) -> str:
        """Flask-Login keeps this in the cookie: the server-side session, not the account
        (see UserSession), so signing out, disabling or a reset ends it everywhere."""
        session_id = self.__dict__.get("_session_token")
        return session_id if session_id else str(self.id)


class EventStaff(db.Model):
    """A role that concerns one event: its chief judge (and, later, its arbiters)."""

    __tablename__ = "event_staff"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id", "role"),
        CheckConstraint("role IN ('chief', 'arbiter')", name="event_staff_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser. The cookie carries a random token whose hash is kept here; every
    request checks it, so signing out, disabling the account, resetting its password or
    revoking the QR link it came from ends the session at once, on every worker."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_id: Mapped[int | None] = mapped_column(ForeignKey("sign_in_links.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Assignment(db.Model):
    """A judge may mark this criterion (and so this event)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("user_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship()
    criterion: Mapped[Criterion] = relationship()


class Mark(db.Model):
    """One judge's mark for one entry on one criterion; its history is in `revisions`.

    `judge` is the judge's account name, or the label of an imported objective result
    (then `user_id` is empty). `version` counts changes, for conflict detection.
    """

    __tablename__ = "marks"
    __table_args__ = (
        UniqueConstraint("entry_id", "criterion_id", "judge", name="mark_once_per_judge"),
        CheckConstraint("value >= 0", name="mark_not_negative"),
        CheckConstraint("version >= 1", name="mark_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id"))
    judge: Mapped[str] = mapped_column(String(80))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    value: Mapped[Decimal] = mapped_column(ExactDecimal)  # the mark
    # What the judge entered on a judgement (the level) or measurement criterion (the
    # measured value); None on another, where the judge enters the mark itself.
    entered: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # SQLAlchemy counts versions and refuses an update of a version someone else changed.
    __mapper_args__ = {"version_id_col": version}

    entry: Mapped[Entry] = relationship(back_populates="marks")
    criterion: Mapped[Criterion] = relationship()
    revisions: Mapped[list[MarkRevision]] = relationship(
        back_populates="mark", order_by="MarkRevision.id")

    @property
    def typed(self) -> Decimal:
        """What the judge entered: the level or measured value, else the mark."""
        return self.value if self.entered is None else self.entered

    def exact(self, rule: rules.CriterionRule) -> rules.Number:
        """The exact mark (a judgement's max x level / 3 rebuilt from its level)."""
        return rules.exact_mark(rule, self.value, self.entered)


class MarkRevision(db.Model):
    """Append-only: every value a mark ever had, who set it, when, from where and why."""

    __tablename__ = "mark_revisions"
    __table_args__ = (CheckConstraint(
        "source IN ('import', 'judge', 'chief', 'demo')", name="revision_source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("marks.id"))
    old_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    new_value: Mapped[Decimal] = mapped_column(ExactDecimal)
    # the level or measured value entered, on a judgement or measurement criterion
    old_entered: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    new_entered: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))  # account name, or "cli:FILE"
    source: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    client_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A change made by the chief judge in the re-check an appeal's ruling ordered.
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    mark: Mapped[Mark] = relationship(back_populates="revisions")


class Appeal(db.Model):
    """A written appeal (申诉) about one entry's named criteria, received during the appeal
    window; the arbiters' ruling (仲裁), and after a re-check (复核) their final ruling.
    `before_json`: the marks of those criteria and the entry's result when it was received."""

    __tablename__ = "appeals"
    __table_args__ = (
        CheckConstraint(f"status IN {APPEAL_STATUSES}", name="appeal_status"),
        Index("appeals_event", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    delegation: Mapped[str | None] = mapped_column(String(100))  # who lodged it
    criteria_json: Mapped[str] = mapped_column(Text)  # ["P1", "P2"]
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="received")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    received_by: Mapped[str] = mapped_column(String(100))
    before_json: Mapped[str] = mapped_column(Text, default="{}")
    ruling_reason: Mapped[str | None] = mapped_column(Text)  # dismissed or recheck: why
    ruled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ruled_by: Mapped[str | None] = mapped_column(String(100))
    final_reason: Mapped[str | None] = mapped_column(Text)  # after the re-check
    final_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_by: Mapped[str | None] = mapped_column(String(100))

    event: Mapped[Event] = relationship()
    entry: Mapped[Entry] = relationship()

    @property
    def criteria(self) -> list[str]:
        return list(json.loads(self.criteria_json))

    @property
    def before(self) -> dict[str, Any]:
        return json.loads(self.before_json or "{}")

    @property
    def open(self) -> bool:
        """Not yet finally ruled on: it holds up the final publication."""
        return self.status in ("received", "recheck")


class AuditEvent(db.Model):
    """Every state change of an event: imports, draws, accounts, lock, publish, reopen."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40))
    details_json: Mapped[str] = mapped_column(Text, default="{}")

    @property
    def details(self) -> dict[str, Any]:
        return json.loads(self.details_json)


class SpreadConfirmation(db.Model):
    """The chief judge confirms one entry's judgement levels that are further apart than
    the criterion allows, with a reason: the levels as they stood (`levels_json`, judge ->
    level); a change of a level afterwards raises the flag again."""

    __tablename__ = "spread_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))
    levels_json: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignOff(db.Model):
    """A judge signed their sheet for a criterion; later changes go through the chief judge."""

    __tablename__ = "sign_offs"
    __table_args__ = (UniqueConstraint("user_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(db.Model):
    """A failed sign-in, kept in the database so every worker throttles alike."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("login_failures_username", "username", "created_at"),
        Index("login_failures_address", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignInLink(db.Model):
    """A revocable, expiring sign-in link for a judge's QR card; only its hash is stored."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Certificate(db.Model):
    """A winner's certificate (获奖证书): its unguessable token is printed as a QR code that
    opens the public verification page. A changed award revokes the certificate; the row
    stays, so an old printout is shown as no longer valid."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index("certificates_entry", "entry_id"),
        # One valid certificate per winner, whatever two prints at once would do.
        Index("certificates_one_valid", "entry_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    award: Mapped[str] = mapped_column(String(100))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    entry: Mapped[Entry] = relationship()
