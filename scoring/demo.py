"""The demo competition of `scoring demo`: a welding final, half-way through its marking.

Everything goes through the same code as real input: the scheme is a TOML text checked by
`parse_scheme`, the contestants are `ContestantRow` records given to `import_contestants`,
lots are drawn by `draw_lots`, accounts made by `create_user`, and so on. Everything is
deterministic (fixed seeds, fixed passwords), so the demo is the same every time.

The functions here only add to the session and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import select

from . import policy, rules
from .extensions import db
from .files.scheme import parse_scheme
from .inputs import ContestantRow, EntryRow, id_check_digit
from .labels import label
from .models import Assignment, Competition, Criterion, Entry, Event, EventStaff, User
from .operations import accounts, audit, bump_results, entries as entry_operations, events
from .operations import appeals as appeal_operations
from .operations.marks import (
    confirm_spread, save_judge_mark, set_mark, sign_off, spread_refusal,
)
from .queries.marks import (
    event_progress, is_signed, judge_progress, markable_entries, unresolved_spreads,
)

DEMO_COMPETITION = "第六届全国职工职业技能大赛（示例）"
DEMO_EVENT = "WELD"
DEMO_FILE = "demo"  # the "file" named in audit records and problems
DATA_SEED = 20240917  # contestants' details and marks
DRAW_SEED = 615302  # the draw of lots
THEORY_JUDGE = "理论机考"  # the label of the imported computer-marked theory result

# The practical is marked out of 100 (40 + 6 + 4 + 30 + 20, less the safety deductions) and
# scaled to 70 by the weight 0.7, the theory out of 100 scaled to 30: 30/70 as in DOMAIN.md.
# J1 is marked the WorldSkills way by judgement (three judges each choose a level 0-3) and
# M1 by measurement (the reinforcement measured in mm; its band gives the mark).
SCHEME = f"""\
code = "{DEMO_EVENT}"
name = "焊工决赛"
competition = "{DEMO_COMPETITION}"
decimals = 2
rounding = "stage"
award_rounding = "half_up"
tie_break = ["section:practical", "time"]
team_best_n = 3

[[sections]]
code = "theory"
name = "理论知识"

[[sections]]
code = "practical"
name = "实际操作"

[[criteria]]
code = "T1"
name = "理论考试"
section = "theory"
max = 100
step = 0.5
weight = 0.3
judges = 1
aggregate = "mean"
blind = false  # computer-marked: shown at once

[[criteria]]
code = "P1"
name = "外观检验"
section = "practical"
max = 40
step = 0.5
weight = 0.7
judges = 5
aggregate = "trimmed"
max_spread = 8

[[criteria]]
code = "J1"
name = "焊缝成形"
section = "practical"
kind = "judgement"
max = 6
weight = 0.7
judges = 3
levels = ["低于行业标准", "达到行业标准", "达到并部分超过行业标准", "全面超过，优秀"]

[[criteria]]
code = "M1"
name = "焊缝余高"
section = "practical"
kind = "measurement"
unit = "mm"
range = [0, 5]
step = 0.1
max = 4
bands = [{{ min = 0.5, max = 2.0, mark = 4 }}, {{ min = 0, max = 3.0, mark = 2 }}]
weight = 0.7
judges = 1

[[criteria]]
code = "P2"
name = "射线探伤"
section = "practical"
max = 30
step = 1
weight = 0.7
judges = 1

[[criteria]]
code = "P3"
name = "弯曲试验"
section = "practical"
max = 20
step = 1
weight = 0.7
judges = 1

[[criteria]]
code = "S1"
name = "安全文明生产扣分"
section = "practical"
kind = "penalty"
max = 10
step = 0.5
weight = 0.7
judges = 1
blind = false  # observed at the station: shown at once

[[awards]]
name = "一等奖"
share = 0.10

[[awards]]
name = "二等奖"
share = 0.20

[[awards]]
name = "三等奖"
share = 0.30
min_total = 60
"""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str
    display_name: str
    delegation: str | None = None
    criteria: tuple[str, ...] = ()


ACCOUNTS = (
    DemoAccount("organiser", "organiser", "demo-organiser", "赛务组"),
    DemoAccount("chief", "chief", "demo-chief", "赵裁判长"),
    # judge1 is also the on-site judge who records the safety deductions, judge4 reads the
    # radiographs and measures the reinforcement (M1), judge5 runs the bend tests; all five
    # inspect the welds (P1); judge1, judge4 and judge5 judge the weld's form (J1).
    DemoAccount("judge1", "judge", "demo-judge1", "张裁判", None, ("P1", "J1", "S1")),
    DemoAccount("judge2", "judge", "demo-judge2", "李裁判", "江苏代表队", ("P1",)),
    DemoAccount("judge3", "judge", "demo-judge3", "王裁判", "广东代表队", ("P1",)),
    DemoAccount("judge4", "judge", "demo-judge4", "刘裁判", None, ("P1", "J1", "M1", "P2")),
    DemoAccount("judge5", "judge", "demo-judge5", "陈裁判", None, ("P1", "J1", "P3")),
)
PANELS = ("P1", "J1")  # the criteria marked by a panel of judges
# `scoring demo --provisional` adds the arbitration group's account (仲裁组).
ARBITER = DemoAccount("arbiter", "arbiter", "demo-arbiter", "孙仲裁")
P1_JUDGES = tuple(account.username for account in ACCOUNTS if "P1" in account.criteria)
J1_JUDGES = tuple(account.username for account in ACCOUNTS if "J1" in account.criteria)
SINGLE_JUDGE = {code: account.username for account in ACCOUNTS
                for code in account.criteria if code not in PANELS}
# A deliberately harsh judge: systematically lower on the judged criteria (P1 by about five
# marks, beyond the analytics' default threshold of 10 % of 40; J1 a level lower), so that
# the chief judge's judge analytics have something to show.
HARSH_JUDGE = "judge5"
DEMO_WINDOW_MINUTES = 10  # `scoring demo --provisional`: the appeal window left
HARSH_P1 = 5.0
# The entry (by position among those present) whose J1 levels are two apart: flagged, and
# the judges' sheets cannot be signed until the chief judge confirms them or a level changes.
J1_SPREAD_AT = 4
SPREAD_REASON = "三名裁判复议后维持原评价"  # the chief judge's reason in the simulation

# Delegation -> (region codes for ID numbers, work units, five contestants (name, gender)).
DELEGATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]] = {
    "北京代表队": (
        ("110105", "110108", "110106"),
        ("北京燕京重型机械有限公司", "北京城建精工钢结构有限公司", "北京永定河电力建设有限公司"),
        (("王建国", "M"), ("刘志强", "M"), ("张晓东", "M"), ("赵丽娟", "F"), ("孙海涛", "M")),
    ),
    "上海代表队": (
        ("310115", "310104", "310112"),
        ("上海浦江船舶重工有限公司", "上海临港装备制造有限公司", "上海申联压力容器有限公司"),
        (("陈伟明", "M"), ("周俊杰", "M"), ("徐美玲", "F"), ("朱国华", "M"), ("沈立新", "M")),
    ),
    "江苏代表队": (
        ("320102", "320411", "321002"),
        ("江苏淮海重型装备有限公司", "常州龙城轨道车辆有限公司", "南京金川锅炉制造有限公司"),
        (("吴永刚", "M"), ("顾晓峰", "M"), ("钱雪梅", "F"), ("蒋文斌", "M"), ("陆振华", "M")),
    ),
    "广东代表队": (
        ("440106", "440604", "440305"),
        ("广州珠江钢构工程有限公司", "佛山南海电力设备有限公司", "深圳鹏城海洋工程有限公司"),
        (("黄志伟", "M"), ("梁家豪", "M"), ("李嘉欣", "F"), ("何锦华", "M"), ("冯国强", "M")),
    ),
    "四川代表队": (
        ("510104", "510106", "510703"),
        ("四川蜀能重型装备有限公司", "成都天府锅炉有限公司", "绵阳涪江机电有限公司"),
        (("杨德明", "M"), ("罗小军", "M"), ("邓春燕", "F"), ("唐利民", "M"), ("胡永福", "M")),
    ),
    "辽宁代表队": (
        ("210102", "210202", "210302"),
        ("辽宁辽河重型机械有限公司", "大连星海造船有限公司", "鞍山铁西钢结构有限公司"),
        (("马铁军", "M"), ("高振东", "M"), ("于海波", "M"), ("郭秀英", "F"), ("韩东升", "M")),
    ),
}
PHONE_PREFIXES = ("135", "136", "138", "139", "150", "152", "158", "177", "186", "187", "189",
                  "199")
ABSENT_BIB = "23"  # arrived more than 20 minutes late: 缺考

# How far the marking has got, by draw order among the contestants present: the first
# P1_DONE have had their welds inspected (the first P1_ALL_JUDGES by all five judges), and
# so on. Theory (computer-marked) is in for everyone present.
P1_ALL_JUDGES = 13
P1_DONE = 19
P3_DONE = 24
P2_DONE = 26
S1_DONE = 26


def database_is_empty() -> bool:
    return db.session.scalar(select(Event.id).limit(1)) is None


def demo_loaded() -> bool:
    return db.session.scalar(
        select(Competition.id).where(Competition.name == DEMO_COMPETITION)) is not None


def accounts_text() -> str:
    """The demo accounts with their roles and passwords, one per line."""
    lines = [_("Demo accounts (for trying the system out only):")]
    for account in ACCOUNTS:
        if account.criteria:
            lines.append(_("%(username)s: %(role)s (%(criteria)s), password %(password)s",
                           username=account.username, role=label("role", account.role),
                           criteria=", ".join(account.criteria), password=account.password))
        else:
            lines.append(_("%(username)s: %(role)s, password %(password)s",
                           username=account.username, role=label("role", account.role),
                           password=account.password))
    return "\n".join(lines)


# --- the contestants --------------------------------------------------------------------

def id_number(rng: random.Random, region: str, gender: str) -> str:
    """A valid 18-character ID number: region, birth date 1975–2000, sequence, check digit.

    The sequence's last digit is odd for a man and even for a woman, as on a real one.
    """
    first = dt.date(1975, 1, 1).toordinal()
    last = dt.date(2000, 12, 31).toordinal()
    birth = dt.date.fromordinal(rng.randint(first, last))
    sequence = rng.randrange(0, 100) * 10 + rng.choice(
        (1, 3, 5, 7, 9) if gender == "M" else (0, 2, 4, 6, 8))
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


def contestant_rows(rng: random.Random) -> list[ContestantRow]:
    people = []
    id_numbers: set[str] = set()
    phones: set[str] = set()
    for delegation, (regions, units, members) in DELEGATIONS.items():
        for name, gender in members:
            number = id_number(rng, rng.choice(regions), gender)
            while number in id_numbers:
                number = id_number(rng, rng.choice(regions), gender)
            id_numbers.add(number)
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            while phone in phones:
                phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            phones.add(phone)
            people.append((name, gender, number, rng.choice(units), delegation, phone))
    rng.shuffle(people)  # bibs mixed across delegations
    return [ContestantRow(row=index + 1, bib=f"{index + 1:02d}", name=name, gender=gender,
                          id_number=number, unit=unit, delegation=delegation, phone=phone)
            for index, (name, gender, number, unit, delegation, phone) in enumerate(people)]


# --- the marks --------------------------------------------------------------------------

def level_of(value: int) -> Decimal:
    return Decimal(min(max(value, 0), 3))


def measured(value: float, criterion: Criterion) -> Decimal:
    """A measured value of `criterion` within its range, on its step (what a gauge reads)."""
    rule = criterion.to_rule()
    low, high = rule.range or (Decimal(0), Decimal(10))
    step = rule.step or Decimal("0.1")
    reading = step * round(min(max(value, float(low)), float(high)) / float(step))
    if rules.check_entered(rule, reading) is not None:  # a bug here, not bad input
        raise ValueError(f"demo value {reading} does not fit criterion {criterion.code}")
    return reading


def on_step(value: float, criterion: Criterion, low: float = 0,
            high: float | None = None) -> Decimal:
    """`value` as a mark of `criterion`: a multiple of its step, within low..high (max)."""
    step = criterion.step or Decimal(1)
    top = float(criterion.max_value) if high is None else high
    mark = step * round(min(max(value, low), top) / float(step))
    mark = min(max(mark, Decimal(0)), criterion.max_value)
    if rules.check_mark(criterion.to_rule(), mark) is not None:  # a bug here, not bad input
        raise ValueError(f"demo mark {mark} does not fit criterion {criterion.code}")
    return mark


class _Marker:
    def __init__(self, actor: str, users: dict[str, User]) -> None:
        self.actor = actor
        self.users = users
        self.count = 0

    def __call__(self, entry: Entry, criterion: Criterion, judge: str, value: Decimal) -> None:
        set_mark(entry, criterion, judge, value, source="demo", actor=self.actor,
                 user=self.users.get(judge))
        self.count += 1


def enter_marks(rng: random.Random, event: Event, present: list[Entry], mark: _Marker) -> None:
    """Marks for the contestants present, in draw order, as far as the marking has got."""
    criteria = {criterion.code: criterion for criterion in event.criteria}
    spread_shown = False
    for position, entry in enumerate(present):
        skill = rng.uniform(0.3, 1.0)
        mark(entry, criteria["T1"], THEORY_JUDGE,
             on_step(58 + 38 * skill + rng.gauss(0, 4), criteria["T1"], low=60, high=98))
        if position < P1_DONE:
            base = 21 + 16 * skill
            if position < P1_ALL_JUDGES:
                judges = list(P1_JUDGES)
            else:
                judges = sorted(rng.sample(P1_JUDGES, rng.choice((3, 4))))
            # judge2 and judge3 stand aside for their own delegations' welds.
            judges = [judge for judge in judges if not policy.stands_aside(
                mark.users[judge].delegation, entry.delegation, event.conflict_check)]
            values = {judge: on_step(base + rng.gauss(0, 1.5)
                                     - (HARSH_P1 if judge == HARSH_JUDGE else 0),
                                     criteria["P1"], low=10)
                      for judge in judges}
            if not spread_shown and len(judges) == 5 and position >= 3:
                # One judge far stricter than the others: flagged for the chief judge.
                strict = judges[2]
                others = [value for judge, value in values.items() if judge != strict]
                values[strict] = max(others) - Decimal(9)
                spread_shown = True
            for judge, value in values.items():
                mark(entry, criteria["P1"], judge, value)
            # J1 by judgement: a level 0-3 each; the harsh judge one lower, the others
            # agreeing or one lower now and then: one level apart at most, but once.
            base_level = 1 + int(skill * 2.9)
            levels = {judge: level_of(base_level - (1 if judge == HARSH_JUDGE else 0)
                                      - (1 if judge != HARSH_JUDGE and rng.random() < 0.2
                                         else 0))
                      for judge in J1_JUDGES}
            if position == J1_SPREAD_AT:
                levels = dict(zip(J1_JUDGES, (Decimal(3), Decimal(2), Decimal(1))))
            for judge, level in levels.items():
                mark(entry, criteria["J1"], judge, level)
        if position < P2_DONE:
            mark(entry, criteria["M1"], SINGLE_JUDGE["M1"],
                 measured(rng.gauss(1.7, 0.6), criteria["M1"]))
            # A crack on the radiograph makes the item 0 (one contestant).
            radiograph = 0.0 if position == 7 else (25 + 14 * skill) * 0.75 + rng.gauss(0, 1.5)
            mark(entry, criteria["P2"], SINGLE_JUDGE["P2"], on_step(radiograph, criteria["P2"]))
        if position < P3_DONE:
            mark(entry, criteria["P3"], SINGLE_JUDGE["P3"],
                 on_step(11 + 9 * skill + rng.gauss(0, 1.5), criteria["P3"], low=5))
        if position < S1_DONE:
            deduction = rng.choice((0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 1.5, 2.0, 3.0))
            mark(entry, criteria["S1"], SINGLE_JUDGE["S1"], on_step(deduction, criteria["S1"]))


# --- loading ----------------------------------------------------------------------------

def load_demo(actor: str) -> str:
    """Load the demo competition into an empty database (flushes; the caller commits) and
    return a short summary."""
    rng = random.Random(DATA_SEED)
    checked = parse_scheme(SCHEME, filename=f"{DEMO_FILE}/{DEMO_EVENT}.toml")
    event, _created = events.import_scheme(checked, actor, f"{DEMO_FILE}/{DEMO_EVENT}.toml")

    rows = contestant_rows(rng)
    entry_operations.import_contestants(event, rows, actor, DEMO_FILE)
    events.draw_lots(event, actor, seed=DRAW_SEED)

    users: dict[str, User] = {}
    for account in ACCOUNTS:
        user, _password = accounts.create_user(
            account.username, account.role, account.password, actor, account.display_name,
            account.delegation)
        users[account.username] = user
        if account.criteria:
            accounts.assign_judge(event, account.username, account.criteria, actor)
        if account.role == "chief":
            events.appoint_chief(event, user, actor)

    entry_operations.update_entries(event, [
        EntryRow(row=row.row, bib=row.bib, status="absent" if row.bib == ABSENT_BIB else "ok",
                 time=None if row.bib == ABSENT_BIB else rng.randint(2 * 3600 + 600, 3 * 3600))
        for row in rows
    ], actor, DEMO_FILE)
    entries = sorted(event.entries, key=lambda entry: entry.draw_order or 0)
    for entry in entries:
        if entry.status == "absent":
            entry.status_reason = "迟到超过20分钟，按缺考处理"

    events.change_state(event, "open", actor)
    event.visibility = "live"
    marker = _Marker(actor, users)
    present = [entry for entry in entries if entry.status == "ok"]
    enter_marks(rng, event, present, marker)
    bump_results(event)
    db.session.flush()
    audit("demo.load", actor, event, competition=DEMO_COMPETITION,
                     contestants=len(rows), marks=marker.count, visibility="live",
                     data_seed=DATA_SEED, draw_seed=DRAW_SEED)
    db.session.flush()

    expected = marker.count + len(missing_marks(event))
    return "\n".join([
        _("Loaded the demo competition “%(competition)s”: event %(code)s (%(name)s) with "
          "%(entries)s contestants from %(delegations)s delegations.",
          competition=DEMO_COMPETITION, code=event.code, name=event.name, entries=len(rows),
          delegations=len(DELEGATIONS)),
        _("Scoring is under way: %(marks)s of %(expected)s marks entered; the live results "
          "are at /api/events/%(code)s/results.", marks=marker.count, expected=expected,
          code=event.code),
    ])



def load_provisional(actor: str) -> str:
    """The demo at a later moment (`scoring demo --provisional`): every mark in, scoring
    locked, the results published provisionally (公示) with the appeal window open, an
    arbiter in the event's arbitration group and one appeal received, not yet ruled on:
    about the runner-up's weld inspection (P1). Flushes; the caller commits."""
    summary = load_demo(actor)
    event = db.session.scalar(select(Event).where(Event.code == DEMO_EVENT))
    assert event is not None
    users = {user.username: user for user in db.session.scalars(select(User))}
    marker = _Marker(actor, users)
    rng = random.Random(DATA_SEED + 1)
    for user, criterion, entry in missing_marks(event):
        marker(entry, criterion, user.username, plausible_mark(rng, criterion, entry))
    db.session.flush()
    # The chief judge has confirmed the levels too far apart (as the simulation does), which
    # scoring cannot be locked without.
    chief = chief_of(event)
    for criterion in event.criteria:
        if criterion.kind == "judgement" and chief is not None:
            for entry_id in unresolved_spreads(criterion):
                entry = db.session.get(Entry, entry_id)
                assert entry is not None
                refused = confirm_spread(chief, event, entry, criterion, SPREAD_REASON)
                assert refused is None, refused
    events.change_state(event, "lock", actor)
    events.change_state(event, "provisional", actor)
    # The demo's window of two hours is already nearly over: it closes ten minutes after
    # loading, so the whole walk (ruling, re-check, final publication) fits in one sitting.
    assert event.provisional_at is not None
    event.provisional_at -= dt.timedelta(hours=event.appeal_hours) \
        - dt.timedelta(minutes=DEMO_WINDOW_MINUTES)
    arbiter, _password = accounts.create_user(ARBITER.username, ARBITER.role, ARBITER.password,
                                              actor, ARBITER.display_name)
    appeal_operations.appoint_arbiter(event, arbiter, actor)
    from .queries.appeals import when
    from .queries.results import event_results

    runner_up = event_results(event).standings.results[1]
    entry = next(entry for entry in event.entries if entry.bib == runner_up.bib)
    appeal = appeal_operations.file_appeal(
        event, runner_up.bib, ["P1"], "本队选手对焊缝外观检验（P1）的得分有异议，"
        "请求复核。", actor, delegation=entry.delegation)
    db.session.flush()
    return "\n".join([summary, _(
        "Every mark is in; the results of %(code)s are published provisionally until "
        "%(time)s, and appeal #%(id)s (bib %(bib)s, P1) waits for the arbiters' ruling.",
        code=event.code, time=when(event.appeal_window_ends_at), id=appeal.id,
        bib=runner_up.bib),
        _("%(username)s: %(role)s, password %(password)s", username=ARBITER.username,
          role=label("role", ARBITER.role), password=ARBITER.password)])


# --- the simulation -----------------------------------------------------------------------

def missing_marks(event: Event) -> list[tuple[User, Criterion, Entry]]:
    """The (judge, criterion, entry) marks still owed on the judges' sheets (policy.owes, as
    the progress page counts them)."""
    entries = {entry.blind_code: entry for entry in markable_entries(event)}
    users = {user.username: user for user in db.session.scalars(
        select(User).join(Assignment).join(Criterion).where(Criterion.event_id == event.id))}
    return [(users[judge], item.criterion, entries[code])
            for item in event_progress(event) for code, judge in item.missing
            if judge is not None and code in entries]


def plausible_mark(rng: random.Random, criterion: Criterion, entry: Entry,
                   judge: str = "") -> Decimal:
    """A mark like the other judges' for this entry, or a typical one for the criterion (the
    harsh judge's lower); on a judgement criterion a level, on a measurement one a value."""
    harsh = judge == HARSH_JUDGE
    if criterion.kind == "judgement":
        levels = [int(mark.entered) for mark in entry.marks
                  if mark.criterion_id == criterion.id and mark.entered is not None]
        if not levels:
            return level_of(rng.choice((1, 2, 2, 3)) - (1 if harsh else 0))
        # within one level of every other judge's (a spread is the exception, not the rule)
        allowed = [level for level in rules.LEVELS
                   if all(abs(level - other) <= 1 for other in levels)]
        if not allowed:
            return level_of(sorted(levels)[len(levels) // 2])
        centre = round(sum(levels) / len(levels)) - (1 if harsh else 0)
        return Decimal(min(allowed, key=lambda level: abs(level - centre)))
    if criterion.kind == "measurement":
        return measured(rng.gauss(1.7, 0.6), criterion)
    others = [mark.value for mark in entry.marks if mark.criterion_id == criterion.id]
    maximum = float(criterion.max_value)
    if criterion.kind == "penalty":
        return on_step(rng.choice((0.0, 0.0, 0.0, 0.5, 1.0, 1.5)), criterion)
    if others:
        centre = float(sum(others)) / len(others) - (HARSH_P1 if harsh else 0)
        return on_step(centre + rng.gauss(0, maximum / 40), criterion)
    return on_step(maximum * rng.uniform(0.62, 0.96), criterion)


def chief_of(event: Event) -> User | None:
    return db.session.scalar(select(User).join(EventStaff).where(
        EventStaff.event_id == event.id, EventStaff.role == "chief").order_by(User.id))


def confirm_spreads(event: Event, criterion: Criterion, echo: Callable[[str], None]) -> None:
    """The chief judge confirms the judgement levels too far apart that block a sheet: the
    judges have talked it over and keep their levels."""
    chief = chief_of(event)
    if chief is None or criterion.kind != "judgement":
        return
    for entry_id in unresolved_spreads(criterion):
        entry = db.session.get(Entry, entry_id)
        if entry is None or confirm_spread(chief, event, entry, criterion, SPREAD_REASON):
            db.session.rollback()
            continue
        db.session.commit()
        echo(_("The chief judge confirmed the levels of %(criterion)s %(code)s, further apart "
               "than allowed: %(reason)s", criterion=criterion.code, code=entry.blind_code,
               reason=SPREAD_REASON))


def finish_sheets(event: Event, criterion: Criterion, echo: Callable[[str], None]) -> None:
    """What the judges do as a criterion completes: each judge signs a complete sheet (on a
    judgement criterion, once the chief judge has confirmed levels too far apart)."""
    for user in db.session.scalars(select(User).join(Assignment).where(
            Assignment.criterion_id == criterion.id).order_by(User.username)):
        done, expected = judge_progress(user, event, criterion)
        if done == expected and not is_signed(user, criterion):
            if spread_refusal(user, criterion) is not None:
                confirm_spreads(event, criterion, echo)
            if sign_off(user, event, criterion) is None:
                db.session.commit()
                echo(_("%(judge)s signed the sheet of %(criterion)s",
                       judge=user.username, criterion=criterion.code))
            else:
                db.session.rollback()


def decode_all(pause: float, echo: Callable[[str], None]) -> None:
    """The chief judge decodes the blind criteria one after another, `pause` seconds apart,
    once every blind sheet is signed (decoding one reveals every code: DOMAIN, README)."""
    event = db.session.scalar(select(Event).where(Event.code == DEMO_EVENT))
    if event is None:
        return
    chief = chief_of(event)
    for criterion in event.criteria:
        if criterion.public or events.decode_refusal(event, criterion) is not None:
            continue
        events.decode(event, [criterion.code], chief.username if chief else "demo", chief)
        db.session.commit()
        echo(_("The chief judge decoded %(criterion)s: its marks are on the public board",
               criterion=criterion.code))
        time.sleep(pause)


def simulate(rate: float, echo: Callable[[str], None], seed: int | None = None) -> int:
    """Enter the demo's remaining marks as its judges would, `rate` a second, through the
    judges' own save (the same checks, tokens and revisions). Returns how many were saved."""
    rng = random.Random(seed)
    saved = 0
    while True:
        db.session.expire_all()
        event = db.session.scalar(select(Event).where(Event.code == DEMO_EVENT))
        if event is None or event.state != "scoring":
            break
        pending = missing_marks(event)
        if not pending:
            break
        # The criterion nearest completion first, so that criteria are signed and decoded
        # one after another and the public board moves criterion by criterion.
        left = Counter(criterion.id for _user, criterion, _entry in pending)
        nearest = min(left, key=lambda criterion_id: (left[criterion_id], criterion_id))
        user, criterion, entry = rng.choice([item for item in pending
                                             if item[1].id == nearest])
        value = plausible_mark(rng, criterion, entry, user.username)
        outcome = save_judge_mark(user, event, criterion, entry, str(value),
                                  token=secrets.token_hex(16), seen_version=None)
        db.session.commit() if outcome.changed else db.session.rollback()
        if outcome.state == "saved":
            saved += 1
            echo(_("%(judge)s: %(criterion)s %(code)s = %(value)s (%(left)s to go)",
                   judge=user.username, criterion=criterion.code, code=entry.blind_code,
                   value=value, left=len(pending) - 1))
            finish_sheets(event, criterion, echo)
        time.sleep(1 / rate)
    decode_all(5 / rate, echo)  # 5 s apart at a mark a second: the board moves each time
    echo(_("The demo's marking is complete: %(count)s marks entered.", count=saved))
    return saved
