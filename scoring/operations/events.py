"""Writes on events: the scheme, the draw, the lifecycle (one way to change state) and the
public board's visibility, and who is the event's chief judge."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import rules
from ..extensions import db
from ..inputs import SchemeFile, text_problem
from ..models import (
    Assignment, AuditEvent, AwardTierRow, Competition, Criterion, Entry, Event, EventStaff,
    Section, User, utcnow,
)
from ..policy import NEXT_STATE
from ..problems import InputError, Problem
from ..queries import marks as marks_queries
from ..queries.appeals import publish_refusal
from ..queries.results import public_snapshot
from . import audit, bump_results, event_has_marks, lock_event, move_state, require

DEFAULT_COMPETITION = "技能竞赛"
MAX_SEED = 2**62 - 1  # a draw's seed, typed or given on the command line
BLIND_ALPHABET = "ACDEFHJKLMNPRTUVWXY"  # no letters that read as digits (B8, I1, O0, S5, Z2)


# --- events -----------------------------------------------------------------------------

def import_scheme(checked: SchemeFile, actor: str, filename: str,
                  user: User | None = None) -> tuple[Event, bool]:
    """Create the event of a scheme file, or update it while it has no marks."""
    scheme = checked.scheme
    if not scheme.criteria:
        raise InputError(Problem(_("a scheme needs at least one criterion"), file=filename,
                                 field="criteria"))
    event = db.session.scalar(select(Event).where(Event.code == scheme.code))
    created = event is None
    if event is not None:
        lock_event(event)
        require("edit_scheme", event, user, file=filename)
    if event is None:
        competition_name = checked.competition or DEFAULT_COMPETITION
        competition = db.session.scalar(
            select(Competition).where(Competition.name == competition_name))
        if competition is None:
            competition = Competition(name=competition_name)
            db.session.add(competition)
        event = Event(code=scheme.code, competition=competition, state="setup",
                      visibility="hidden", results_version=1)
        db.session.add(event)
    elif event_has_marks(event):
        raise InputError(Problem(_(
            "event %(code)s already has marks: its scheme can no longer be replaced",
            code=scheme.code), file=filename))
    event.name = scheme.name
    event.decimals = scheme.decimals
    event.rounding = scheme.rounding
    event.award_rounding = scheme.award_rounding
    event.tie_break = list(scheme.tie_break)
    event.team_best_n = scheme.team_best_n
    event.appeal_hours = checked.appeal_hours

    # Sections and criteria keep their rows (criteria their judges) when their code stays.
    with db.session.no_autoflush:
        old_sections = {section.code: section for section in event.sections}
        old_criteria = {criterion.code: criterion for criterion in event.criteria}
        sections = {}
        for position, rule in enumerate(scheme.sections):
            section = old_sections.get(rule.code) or Section(code=rule.code)
            section.name, section.position = rule.name, position
            sections[rule.code] = section
        criteria = []
        for position, rule in enumerate(scheme.criteria):
            criterion = old_criteria.pop(rule.code, None) or Criterion(code=rule.code)
            criterion.name = rule.name
            criterion.section = sections.get(rule.section)
            criterion.position = position
            criterion.max_value = rule.max
            criterion.step = rule.step
            criterion.weight = checked.weights[rule.code]
            criterion.judges = rule.judges
            criterion.aggregate = rule.aggregate
            criterion.kind = rule.kind
            criterion.max_spread = rule.max_spread
            criterion.levels = rule.levels
            criterion.bands = rule.bands
            criterion.range_min, criterion.range_max = rule.range or (None, None)
            criterion.unit = rule.unit or None
            criterion.blind = checked.blind.get(rule.code, True)
            criteria.append(criterion)
        for removed in old_criteria.values():
            db.session.execute(Assignment.__table__.delete().where(
                Assignment.criterion_id == removed.id))
        event.criteria = criteria
        event.sections = list(sections.values())
    event.awards = [
        AwardTierRow(position=position, name=tier.name, share=share, count=tier.count,
                     min_total=tier.min_total)
        for position, (tier, share) in enumerate(zip(scheme.awards, checked.shares))
    ]
    db.session.flush()
    audit("event.create" if created else "event.update", actor, event, file=filename)
    bump_results(event)
    return event, created


# --- the draw ---------------------------------------------------------------------------

def draw_lots(event: Event, actor: str, seed: int | None = None, user: User | None = None) -> int:
    """Stations and order for every entry, from a recorded seed; then new blind codes.

    The same seed and the same bibs give the same stations and order: the entries are taken
    in bib order and shuffled by a random.Random(seed), so anyone can re-run it to check it.
    The blind codes are not from the seed (anyone holding the public seed could compute
    them): `assign_codes` makes them with `secrets`, recorded only by their fingerprint.
    """
    lock_event(event)
    if event.state == "setup":
        raise InputError(Problem(_("event %(code)s has no contestants to draw",
                                   code=event.code)))
    require("draw", event, user)
    if event_has_marks(event):
        raise InputError(Problem(_(
            "event %(code)s has started scoring: lots can no longer be drawn",
            code=event.code)))
    if not event.entries:
        raise InputError(Problem(_("event %(code)s has no contestants to draw",
                                   code=event.code)))
    give_bibs(event, actor, user)
    entries = sorted(event.entries, key=lambda entry: rules.natural_key(entry.bib))
    if seed is None:
        seed = secrets.randbelow(10**9)
    result = draw_result([entry.bib for entry in entries], seed)
    for entry in entries:
        entry.station, entry.draw_order = result[entry.bib]
    event.draw_seed = seed
    event.drawn_at = utcnow()
    move_state(event, "drawn", "draw", actor, user)
    db.session.flush()
    audit("draw", actor, event, user=user, seed=seed, result={
        bib: {"station": station, "order": order} for bib, (station, order) in result.items()})
    assign_codes(event, actor, user, step="draw")
    return seed


def give_bibs(event: Event, actor: str, user: User | None = None) -> dict[str, str]:
    """A bib for every entry registered without one (delegations' sheets carry none): the
    numbers after the largest numeric bib of the event, in registration order (the order of
    the rows imported), zero-padded to the width of the largest bib of digits ("01".."30";
    five entries and no bib at all: "1".."5"). Given before the shuffle, so the draw stays
    what anyone can re-run from its seed and the bibs. Recorded as `bibs.assign`
    (bib -> name). Returns the bibs given."""
    bibless = sorted((entry for entry in event.entries if not entry.bib),
                     key=lambda entry: entry.id)
    if not bibless:
        return {}
    numeric = [bib for bib in (entry.bib for entry in event.entries) if bib and bib.isdigit()]
    first = max((int(bib) for bib in numeric), default=0) + 1
    last = first + len(bibless) - 1
    width = max([len(str(last)), *(len(bib) for bib in numeric)])
    given = {}
    for number, entry in enumerate(bibless, start=first):
        entry.bib = str(number).zfill(width)
        given[entry.bib] = entry.contestant.name
    db.session.flush()
    audit("bibs.assign", actor, event, user=user, count=len(given), bibs=given)
    return given


def draw_result(bibs: list[str], seed: int) -> dict[str, tuple[int, int]]:
    """bib -> (station, order), the same for the same bibs and seed."""
    generator = random.Random(seed)
    count = len(bibs)
    stations = list(range(1, count + 1))
    generator.shuffle(stations)
    orders = list(range(1, count + 1))
    generator.shuffle(orders)
    return {bib: (station, order) for bib, station, order in zip(bibs, stations, orders)}


def new_code() -> str:
    """A blind code: two letters of BLIND_ALPHABET and three digits (AC123), from `secrets`."""
    return "".join(secrets.choice(BLIND_ALPHABET) for _ in range(2)) + str(
        100 + secrets.randbelow(900))


def code_fingerprint(codes: dict[str, str]) -> str:
    """SHA-256 of the lines "bib:code\\n", sorted (by code point, as `LC_ALL=C sort`), in
    eight groups of eight hex digits (read aloud and compared by eye, and it wraps): printed
    on the sealed code list and kept in the audit log, so that a printed list can be checked
    against the record without the record holding a single code."""
    lines = sorted(f"{bib}:{code}\n" for bib, code in codes.items())
    digest = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
    return " ".join(digest[start:start + 8] for start in range(0, len(digest), 8))


def event_codes(event: Event) -> dict[str, str]:
    """bib -> blind code of the entries that have one, by bib."""
    entries = sorted((entry for entry in event.entries if entry.blind_code),
                     key=lambda entry: rules.natural_key(entry.bib))
    return {entry.bib: entry.blind_code for entry in entries}  # type: ignore[misc]


def assign_codes(event: Event, actor: str, user: User | None = None,
                 step: str = "recode") -> str:
    """New blind codes for every entry of the event, from `secrets` (never from the draw's
    seed), unique in the event and none equal to a code the event had before (a workpiece
    still labelled with an old code matches nobody). Recorded as `codes.assign`: by whom,
    which step (the draw or a recode), how many and their fingerprint, never the codes.
    The caller has taken the event's lock and asked policy. Returns the fingerprint."""
    give_bibs(event, actor, user)  # registered since the draw without a bib
    entries = list(event.entries)
    taken = {entry.blind_code for entry in entries if entry.blind_code}
    for entry in entries:
        entry.blind_code = None
    db.session.flush()  # free the old blind codes before the unique constraint sees new ones
    for entry in entries:
        code = new_code()
        while code in taken:
            code = new_code()
        taken.add(code)
        entry.blind_code = code
    db.session.flush()
    fingerprint = code_fingerprint({entry.bib: entry.blind_code for entry in entries
                                    if entry.blind_code})
    audit("codes.assign", actor, event, user=user, step=step, count=len(entries),
          fingerprint=fingerprint)
    return fingerprint


def codes_record(event: Event) -> AuditEvent | None:
    """The audit record of the event's blind codes as they are now (the latest made)."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.event_id == event.id, AuditEvent.action == "codes.assign")
        .order_by(AuditEvent.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class CodeList:
    """The sealed code list (bib -> blind code, by bib), as printed for the encoding judge."""
    event: Event
    codes: dict[str, str]
    fingerprint: str
    generated_at: datetime | None  # None: codes of a draw made before they were recorded
    generated_by: str | None
    generation: int  # the id of the codes' audit record, 0 if none (what the recode form saw)

    @property
    def count(self) -> int:
        return len(self.codes)


def code_list(event: Event) -> CodeList:
    """The event's blind codes now, with their fingerprint and when and by whom they were
    made; refused while the event has none (no draw yet)."""
    codes = event_codes(event)
    if not codes:
        raise InputError(Problem(_(
            "event %(code)s has no blind codes yet: draw lots first", code=event.code)))
    record = codes_record(event)
    return CodeList(event=event, codes=codes, fingerprint=code_fingerprint(codes),
                    generated_at=record.created_at if record else event.drawn_at,
                    generated_by=record.actor if record else None,
                    generation=record.id if record else 0)


def recode(event: Event, actor: str, user: User | None = None,
           seen: int | None = None) -> str:
    """Two-stage coding: new blind codes after the draw, before scoring opens (the stations
    and the order stay). `seen`: the codes' record the organiser's page showed; when the
    codes have been made again since (a second click, another organiser), refused, so that
    one click never makes two lists. Returns the new fingerprint."""
    lock_event(event)
    require("recode", event, user)
    if event_has_marks(event):
        raise InputError(Problem(_(
            "event %(code)s has marks: its blind codes can no longer change",
            code=event.code)))
    latest = codes_record(event)
    if seen is not None and seen != (latest.id if latest else 0):
        raise InputError(Problem(_(
            "The blind codes were made again meanwhile (by %(who)s): print the new list "
            "before making them again.", who=latest.actor if latest else "?")))
    return assign_codes(event, actor, user, step="recode")


# --- decoding (解密) ---------------------------------------------------------------------------

Sheets = list[tuple[str, str | None, bool]]  # marks_queries.sheets_of


def unfinished(event: Event, criterion: Criterion,
               progress: dict[int, marks_queries.CriterionProgress],
               sheets: Sheets | None = None) -> str | None:
    """What is still open on a blind criterion: unsigned sheets, or (with no judge, its
    marks imported) missing marks; None when it is done."""
    if sheets is None:
        sheets = marks_queries.sheets_of(criterion)
    unsigned = [name or username for username, name, signed in sheets if not signed]
    if unsigned:
        return _("%(code)s: %(count)s of %(total)s sheets are not signed yet (%(judges)s).",
                 code=criterion.code, count=len(unsigned), total=len(sheets),
                 judges=", ".join(unsigned))
    done = progress[criterion.id]
    if done.done < done.expected:
        return _("%(code)s: %(missing)s marks are still missing.", code=criterion.code,
                 missing=done.expected - done.done)
    return None


def blind_unfinished(event: Event,
                     progress: list[marks_queries.CriterionProgress] | None = None,
                     sheets: dict[int, Sheets] | None = None) -> list[str]:
    """What is still open on the event's blind criteria not yet decoded (see unfinished),
    read once for all of them; a page that read the progress and the sheets already
    passes them."""
    by_id = {item.criterion.id: item for item in
             (progress if progress is not None else marks_queries.event_progress(event))}
    return [reason for other in event.criteria if other.blind and other.decoded_at is None
            for reason in [unfinished(event, other, by_id,
                                      sheets.get(other.id) if sheets is not None else None)]
            if reason]


def decode_refusal(event: Event, criterion: Criterion,
                   open_work: list[str] | None = None) -> str | None:
    """Why this criterion cannot be decoded now, or None.

    Every blind criterion of an event is marked on the same coded workpieces: once one is
    public per contestant, whoever knows its marks by code (its judges) can tell whose
    workpiece each code is, on every other criterion too. So no blind criterion is decoded
    before every blind criterion of the event is done (every sheet signed, or its imported
    marks complete); then the chief judge decodes them, one by one or together. `open_work`:
    blind_unfinished(event), when the caller asks about several criteria."""
    if not criterion.blind:
        return _("%(code)s is not blind: its marks are shown at once.", code=criterion.code)
    if criterion.decoded_at is not None:
        return _("%(code)s is already decoded.", code=criterion.code)
    reasons = blind_unfinished(event) if open_work is None else open_work
    if reasons:
        return _("Decoding one criterion reveals every blind code, so all blind criteria "
                 "are finished first: %(reasons)s", reasons=" ".join(reasons))
    return None


def decode(event: Event, codes: list[str], actor: str, user: User | None = None) -> list[str]:
    """Decode blind criteria (all those that can be, when `codes` is empty): from now on
    their marks are in the public results. Recorded, and never undone. Returns the codes
    decoded; raises InputError with every reason when a named one cannot be (or, with none
    named, when none can)."""
    lock_event(event)
    require("decode", event, user)
    known = {criterion.code: criterion for criterion in event.criteria}
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InputError([Problem(_("event %(event)s has no criterion %(code)s",
                                    event=event.code, code=ascii(code)[1:-1]))
                          for code in unknown])
    open_work = blind_unfinished(event)
    if codes:
        chosen = [known[code] for code in dict.fromkeys(codes)]
        problems = [Problem(reason) for reason in
                    (decode_refusal(event, criterion, open_work) for criterion in chosen)
                    if reason]
        if problems:
            raise InputError(problems)
    else:
        waiting = [criterion for criterion in event.criteria if not criterion.public]
        if not waiting:
            raise InputError(Problem(_("Every criterion of %(code)s is decoded or not blind.",
                                       code=event.code)))
        reasons = {criterion.code: decode_refusal(event, criterion, open_work)
                   for criterion in waiting}
        chosen = [criterion for criterion in waiting if reasons[criterion.code] is None]
        if not chosen:
            raise InputError([Problem(reason)
                              for reason in reasons.values() if reason])
    for criterion in chosen:
        mark_decoded(event, criterion, actor, user, step="decode")
    bump_results(event)
    db.session.flush()
    return [criterion.code for criterion in chosen]


def mark_decoded(event: Event, criterion: Criterion, actor: str, user: User | None,
                 step: str) -> None:
    criterion.decoded_at = utcnow()
    criterion.decoded_by = actor
    audit("criterion.decode", actor, event, user=user, criterion=criterion.code, step=step)


# --- the lifecycle and the board -----------------------------------------------------------

def change_state(event: Event, action: str, actor: str, user: User | None = None,
                 reason: str = "", expected_state: str | None = None) -> None:
    """open (scoring), lock, publish provisionally (公示: the appeal window opens), publish
    finally or reopen (with a reason) an event: the one way its state changes, serialised
    with judges' saves (see lock_event) and recorded. `expected_state`: the state the page
    that asked showed; if the event has left it meanwhile (a second post of the same page,
    someone else's click), nothing is done. The final publication is refused while the
    appeal window is open or an appeal is not ruled on (queries.appeals.publish_refusal)."""
    if action not in ("open", "lock", "provisional", "publish", "reopen"):
        raise InputError(Problem(_("Unknown action.")))
    lock_event(event)
    if expected_state is not None and event.state != expected_state:
        from ..labels import label  # the state in the reader's words
        raise InputError(Problem(_(
            "Nothing was done: the event has moved on to “%(state)s” meanwhile. "
            "Look at the page again.", state=label("state", event.state)),
            field="from_state"))
    require(action, event, user)
    reason = reason.strip()
    if action == "reopen" and not reason:
        raise InputError(Problem(_("Reopening needs a reason."), field="reason"))
    problem = text_problem(reason, 2000, lines=True)
    if problem:
        raise InputError(Problem(problem, field="reason"))
    if action == "open":
        unsealed = db.session.execute(select(Entry.bib).where(  # a row: the bib may be None
            Entry.event_id == event.id, Entry.blind_code.is_(None)).limit(1)).first()
        if unsealed is not None:
            raise InputError(Problem(_(
                "Contestant %(bib)s has no blind code: draw lots again before scoring opens.",
                bib=unsealed[0] or "—")))
    if action == "lock":
        # Judgement levels further apart than allowed must be resolved first (DOMAIN): a
        # judge changes a level, or the chief judge confirms them with a reason.
        flagged = [f"{criterion.code} ({len(spreads)})" for criterion in event.criteria
                   if criterion.kind == "judgement"
                   and (spreads := marks_queries.unresolved_spreads(criterion))]
        if flagged:
            raise InputError(Problem(_(
                "Judgement levels too far apart are not resolved: %(criteria)s entries. A "
                "judge changes a level, or the chief judge confirms the levels with a reason "
                "on the marks page; then lock.", criteria=", ".join(flagged))))
    details: dict[str, object] = {}
    if action == "publish":
        refused = publish_refusal(event)
        if refused:
            raise InputError(Problem(refused))
    if action in ("provisional", "publish"):
        # The provisional results are public already, so they show every mark: what the
        # chief judge has not decoded is decoded now, recorded as such.
        for criterion in event.criteria:
            if not criterion.public:
                mark_decoded(event, criterion, actor, user, step=action)
        event.frozen_at = event.frozen_json = None
    if action == "provisional":
        event.provisional_at = utcnow()
        event.visibility = "live"  # the public board shows them, marked provisional
        details = {"appeal_hours": event.appeal_hours,
                   "window_ends": event.appeal_window_ends_at}
    elif action == "publish":
        event.visibility = "published"
    elif action == "reopen":
        event.provisional_at = None
        if event.visibility == "published":
            event.visibility = "live"
    move_state(event, NEXT_STATE[action], action, actor, user, reason=reason or None,
               **details)
    db.session.flush()


def set_visibility(event: Event, visibility: str, actor: str, user: User | None = None) -> None:
    """Hide the board, show it live, freeze it as it is now, or publish the final results
    (which is the lifecycle's `publish`)."""
    if visibility not in ("hidden", "live", "frozen", "published"):
        raise InputError(Problem(_("the board is hidden, live, frozen or published"),
                                 field="VISIBILITY"))
    if visibility == "published":
        if event.state != "published":
            change_state(event, "publish", actor, user)
        return
    lock_event(event)
    require("visibility", event, user)
    if event.state == "provisional" and visibility != "live":
        # 公示: the results are shown, as they stand, for the whole appeal window.
        raise InputError(Problem(_("While the results are provisional (公示) the board stays "
                                   "live: the public sees them, re-checks included, until "
                                   "the final publication."), field="VISIBILITY"))
    old = event.visibility
    event.visibility = visibility
    if visibility == "frozen":
        event.frozen_at = utcnow()
        event.frozen_json = json.dumps(public_snapshot(event), ensure_ascii=False)
    else:
        event.frozen_at = event.frozen_json = None
    audit("board.visibility", actor, event, user=user, old=old, new=visibility)
    bump_results(event)
    db.session.flush()


def appoint_chief(event: Event, chief: User, actor: str, user: User | None = None) -> bool:
    """Make `chief` (a chief judge's account) the chief judge of `event`; before scoring
    opens only, so that nobody can be made chief mid-event to correct marks. Returns whether
    anything changed."""
    return appoint_staff(event, chief, "chief", actor, user)


# Per-event staff: the policy action that appoints them, the audit action, the refusal.
STAFF_ROLES = {
    "chief": ("appoint", "event.chief", _l("“%(name)s” is not a chief judge's account")),
    "arbiter": ("appoint_arbiter", "event.arbiter",
                _l("“%(name)s” is not an arbiter's account")),
}


def appoint_staff(event: Event, account: User, role: str, actor: str,
                  user: User | None = None) -> bool:
    """Add an account of `role` ("chief" or "arbiter") to the event's staff, as policy
    allows; whether anything changed (already there: nothing)."""
    action, audited, refusal = STAFF_ROLES[role]
    require(action, event, user, field=role)
    if account.role != role or not account.active:
        raise InputError(Problem(str(refusal) % {"name": account.username}, field=role))
    if event.id in getattr(account, f"{role}_of"):
        return False
    db.session.add(EventStaff(event_id=event.id, user_id=account.id, role=role))
    account.__dict__.pop(f"_{role}_of", None)
    audit(audited, actor, event, user=user, **{role: account.username})
    db.session.flush()
    return True


def rename_scheme(event: Event, scheme: rules.Scheme, actor: str,
                  user: User | None = None) -> None:
    """Change what cannot change a result once marks exist: names and the spread limit."""
    lock_event(event)
    require("rename_scheme", event, user)
    event.name = scheme.name
    for section, rule in zip(event.sections, scheme.sections):
        section.name = rule.name
    for criterion, criterion_rule in zip(event.criteria, scheme.criteria):
        criterion.name = criterion_rule.name
        criterion.max_spread = criterion_rule.max_spread
    audit("event.rename", actor, event)
    bump_results(event)
    db.session.flush()
