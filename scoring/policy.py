"""Who may do what to an event, and when; the marks each contestant needs and each judge
owes. Pure: plain values and the models' attributes in, answers out, no query and no Flask
beyond the translations. Views, operations, the command line and templates all ask here
(templates through `can(action, event)`, as booleans), so no two places can disagree.

The lifecycle: setup -> registration -> drawn -> scoring -> locked -> provisional ->
published. Marks are entered only in `scoring`; after `locked` nothing that changes a result
(a mark, a status, a time, a delegation, a bib, an assignment) changes, except a chief judge's
correction with a reason; in `provisional` (公示: the results public, the appeal window open)
only the re-check an arbiter ordered on an appeal changes a mark; `published` is final until
the chief judge or an organiser reopens it, with a reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

STATES = ("setup", "registration", "drawn", "scoring", "locked", "provisional", "published")
BEFORE_SCORING = frozenset({"setup", "registration", "drawn"})
OPEN = BEFORE_SCORING | {"scoring"}  # results may still change by any door
CLOSED = frozenset({"locked", "provisional", "published"})
PUBLIC_RESULTS = frozenset({"provisional", "published"})  # every criterion decoded
ANY = frozenset(STATES)

# The one table: which action in which state, and who may take it ("organiser", "chief" of
# the event, "judge" assigned to the criterion, "arbiter" of the event). The state each
# action leads to, if any.
ACTIONS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "view": (ANY, frozenset({"organiser", "chief"})),  # the console and the chief's pages
    "edit_scheme": (OPEN, frozenset({"organiser"})),  # all of it while no mark exists
    "rename_scheme": (OPEN, frozenset({"organiser"})),  # names and the spread limit
    "register": (BEFORE_SCORING, frozenset({"organiser"})),  # new contestants and bibs
    "edit_person": (ANY, frozenset({"organiser"})),  # names, units, ID and phone numbers
    "change_entry": (OPEN, frozenset({"organiser"})),  # status, time used, delegation
    "draw": (frozenset({"registration", "drawn"}), frozenset({"organiser"})),
    "assign": (OPEN, frozenset({"organiser"})),  # judges to criteria
    "cards": (ANY, frozenset({"organiser"})),  # QR sign-in cards for the judges' tablets
    "appoint": (BEFORE_SCORING, frozenset({"organiser"})),  # the chief judge of the event
    "import_scores": (OPEN, frozenset({"organiser"})),
    # new blind codes for the workpieces (two-stage coding), after the draw, before scoring
    "recode": (frozenset({"drawn"}), frozenset({"organiser"})),
    "codes": (ANY, frozenset({"organiser"})),  # the sealed code list, for the encoding judge
    # a blind criterion's marks go public (解密), once every sheet of it is signed
    "decode": (frozenset({"scoring", "locked"}), frozenset({"chief"})),
    "open": (frozenset({"drawn"}), frozenset({"organiser", "chief"})),
    "lock": (frozenset({"scoring"}), frozenset({"organiser", "chief"})),
    # the provisional publication (公示) opens the appeal window; the final one needs it
    # closed and every appeal ruled on (operations.events.publish_refusal says why not)
    "provisional": (frozenset({"locked"}), frozenset({"organiser", "chief"})),
    "publish": (frozenset({"provisional"}), frozenset({"organiser", "chief"})),
    "reopen": (CLOSED, frozenset({"organiser", "chief"})),
    "visibility": (ANY, frozenset({"organiser", "chief"})),
    "mark": (frozenset({"scoring"}), frozenset({"judge"})),
    "sign": (frozenset({"scoring"}), frozenset({"judge"})),
    "correct": (frozenset({"scoring", "locked"}), frozenset({"chief"})),
    "certificates": (CLOSED, frozenset({"organiser", "chief"})),
    "export": (ANY, frozenset({"organiser", "chief"})),
    "appoint_arbiter": (ANY - {"published"}, frozenset({"organiser"})),  # the 仲裁组
    # appeals: organisers record them; arbiters rule; the chief re-checks; judges never see
    "appeals": (ANY, frozenset({"organiser", "chief", "arbiter"})),
    "file_appeal": (frozenset({"provisional"}), frozenset({"organiser"})),
    "rule": (frozenset({"provisional"}), frozenset({"arbiter"})),
    "recheck": (frozenset({"provisional"}), frozenset({"chief"})),
    # how each judge marks compared with the panel: never the judges', never public
    "analytics": (ANY, frozenset({"organiser", "chief"})),
}
NEXT_STATE = {"open": "scoring", "lock": "locked", "provisional": "provisional",
              "publish": "published", "reopen": "scoring"}

# Why an action is refused in a state, in words (the state's name is never shown raw).
STATE_REFUSALS = {
    "edit_scheme": _l("The event is locked: its scheme can no longer change."),
    "rename_scheme": _l("The event is locked: its scheme can no longer change."),
    "register": _l("Contestants are registered before scoring opens."),
    "change_entry": _l("The event is locked: statuses, times and delegations can no longer "
                       "change (reopen it first)."),
    "draw": _l("Event %(code)s has started scoring: lots can no longer be drawn."),
    "assign": _l("The event is locked: judges' assignments can no longer change."),
    "appoint": _l("The chief judge is appointed before scoring opens."),
    "import_scores": _l("The event is locked: marks can no longer be imported."),
    "open": _l("Scoring opens once lots are drawn."),
    "recode": _l("Blind codes are made again after the draw and before scoring opens."),
    "decode": _l("Criteria are decoded while scoring is open or locked."),
    "lock": _l("Only an event in scoring can be locked."),
    "provisional": _l("First lock the scoring of %(code)s, then publish its results "
                      "provisionally."),
    "publish": _l("First publish the results of %(code)s provisionally (the appeal window), "
                  "then finally."),
    "reopen": _l("Only a locked, provisional or published event can be reopened."),
    "mark": _l("Scoring of this event is not open yet."),
    "sign": _l("Scoring of this event is not open yet."),
    "correct": _l("The results are published (provisionally or finally): a mark changes "
                  "now only in a re-check an appeal's ruling ordered, or after reopening."),
    "certificates": _l("Certificates are issued once scoring is locked."),
    "appoint_arbiter": _l("The results are final: arbiters are appointed before."),
    "file_appeal": _l("Appeals are received while the results are provisional."),
    "rule": _l("Appeals are ruled on while the results are provisional."),
    "recheck": _l("A re-check happens while the results are provisional."),
}


class Person(Protocol):
    """What policy reads of an account (models.User has it)."""

    id: int
    role: str
    delegation: str | None
    active: bool

    @property
    def chief_of(self) -> frozenset[int]: ...

    @property
    def arbiter_of(self) -> frozenset[int]: ...


def roles(event: Any, user: Person | None) -> frozenset[str]:
    """The roles `user` holds in `event`: organisers everywhere, a chief judge only in the
    events they were appointed to (a chief of WELD is nobody in EX-B), and "judge" for any
    judge or chief (whether they mark a criterion is their assignment: see `may_mark`); an
    arbiter only in the events whose arbitration group they were appointed to, and nothing
    else (they never mark)."""
    if user is None or not getattr(user, "is_authenticated", True) or not user.active:
        return frozenset()
    if user.role == "organiser":
        return frozenset({"organiser"})
    if user.role == "arbiter":
        return frozenset({"arbiter"}) if event is not None and event.id in user.arbiter_of \
            else frozenset()
    held = {"judge"}
    if user.role == "chief" and event is not None and event.id in user.chief_of:
        held.add("chief")
    return frozenset(held)


def holds(action: str, event: Any, user: Person | None) -> bool:
    """Does `user` hold a role in `event` that may take `action` (in some state)?"""
    return bool(roles(event, user) & ACTIONS[action][1])


def can(action: str, event: Any, user: Person | None) -> bool:
    """May `user` take `action` on `event` now (its state, their roles in it)?"""
    return refusal(action, event, user) is None


def refusal(action: str, event: Any, user: Person | None) -> str | None:
    """Why `user` may not take `action` on `event` now, in words; None when they may.
    `user` None is the command line: the operator of the server, who holds every role."""
    states, _who = ACTIONS[action]
    if user is not None and not holds(action, event, user):
        return _("You may not do this in this event.")
    if event.state not in states:
        if action in ("mark", "sign") and event.state in CLOSED:
            return _("Scoring of this event is locked: ask the chief judge.")
        message = STATE_REFUSALS.get(action)
        if message is None:
            return _("Not possible in this state of the event.")
        return str(message) % {"code": event.code} if "%(code)s" in str(message) \
            else str(message)
    return None


# --- the marks needed, and who owes them --------------------------------------------------

@dataclass(frozen=True)
class Panel:
    """A criterion's marking: marks needed per contestant by the scheme, and the judges
    assigned with their delegations (empty: marks come from an import, e.g. a theory exam)."""

    judges: int
    assigned: tuple[tuple[str, str | None], ...] = ()


def stands_aside(judge_delegation: str | None, entry_delegation: str | None,
                 conflict_check: bool) -> bool:
    """A judge does not mark contestants of their own delegation (conflict of interest)."""
    return bool(conflict_check and judge_delegation and entry_delegation
                and judge_delegation == entry_delegation)


def needed(panel: Panel, entry_delegation: str | None, conflict_check: bool) -> int:
    """Marks a contestant of `entry_delegation` needs on the criterion: the scheme's
    `judges`, or fewer when judges of that delegation stand aside. Of A judges assigned
    with R standing aside, max(A, judges) - R can mark; at least one mark is always needed.
    An understaffed criterion (A < judges) still needs all of them: it is never complete."""
    if not panel.assigned:
        return panel.judges
    aside = sum(stands_aside(delegation, entry_delegation, conflict_check)
                for _name, delegation in panel.assigned)
    can_mark = max(len(panel.assigned), panel.judges) - aside
    return panel.judges if can_mark >= panel.judges else max(1, can_mark)


def needed_by_delegation(panels: Mapping[str, Panel], conflict_check: bool
                         ) -> dict[str | None, dict[str, int]]:
    """By delegation, the criteria (by code) needing fewer marks than `judges` (the rules
    module's EntryInput.needed); other delegations need the scheme's `judges` everywhere."""
    result: dict[str | None, dict[str, int]] = {}
    delegations = {delegation for panel in panels.values()
                   for _name, delegation in panel.assigned if delegation}
    for delegation in delegations:
        for code, panel in panels.items():
            count = needed(panel, delegation, conflict_check)
            if count < panel.judges:
                result.setdefault(delegation, {})[code] = count
    return result


def owes(judge: str, judge_delegation: str | None, panel: Panel, entry_status: str,
         entry_delegation: str | None, marked_by: Iterable[str], conflict_check: bool) -> bool:
    """Does this assigned judge still owe this contestant a mark on the criterion? Not when
    the contestant is absent or disqualified, when the judge stands aside, when the judge
    has marked, or when the others have given every mark needed."""
    marked = set(marked_by)
    if entry_status != "ok" or judge in marked:
        return False
    if stands_aside(judge_delegation, entry_delegation, conflict_check):
        return False
    return len(marked) < needed(panel, entry_delegation, conflict_check)


def mark_refusal(judge: str, judge_delegation: str | None, panel: Panel, entry_status: str,
                 entry_delegation: str | None, marked_by: Iterable[str],
                 conflict_check: bool) -> str | None:
    """Why this judge may not give this contestant a mark on the criterion (beyond the
    event's state and the judge's assignment), or None. A judge who has marked may change
    their mark; nobody may add a mark beyond the `judges` the scheme takes."""
    if entry_status == "absent":
        return _("Absent")
    if entry_status == "dq":
        return _("Disqualified")
    if stands_aside(judge_delegation, entry_delegation, conflict_check):
        return _("Not yours to mark (your own delegation)")
    marked = set(marked_by)
    if judge not in marked and len(marked) >= panel.judges:
        return _("This contestant already has every mark this criterion takes (%(count)s).",
                 count=panel.judges)
    return None
