"""What people type and files hold, checked: marks, times, contestants' details, free text,
and the records the operations take. No database and no Flask beyond the translations, so
the console's forms, the file readers and the command line check alike.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from flask_babel import gettext as _

from . import rules

# Characters a name or a label never holds: C0 and C1 controls, bidirectional overrides and
# isolates (U+202A-E, U+2066-9: they reorder what is shown, "‮gnp.exe"), zero-width characters
# and the BOM (they make two equal-looking names differ), the line and paragraph separators.
UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069"
                    "\ufeff\ufff9-\ufffb]")


def text_problem(text: str, limit: int | None = None, lines: bool = False) -> str | None:
    """Why `text` (a name, a unit, a delegation, a code...) cannot be stored, or None;
    `lines`: a reason or a note, which may hold line breaks and tabs."""
    if limit is not None and len(text) > limit:
        return _("longer than %(limit)s characters", limit=limit)
    if lines:
        text = text.replace("\r\n", "\n").replace("\n", " ").replace("\t", " ")
        if UNSEEN.search(text):
            return _("contains a control character or an invisible character")
    elif UNSEEN.search(text):
        return _("contains a line break, a control character or an invisible character")
    return None


def normal_mark(value: Decimal) -> Decimal:
    """A mark as stored and shown: -0 is 0, no trailing zeros (40.00000 is 40), no exponent
    (4E+1 is 40). Exact whatever the decimal context: normalize() would round to its 28
    digits, and "+ 0" to its precision."""
    if not value.is_finite():
        return value
    if value.is_zero():
        return Decimal(0)
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    kept = list(digits)
    while exponent < 0 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if exponent > 0:
        kept.extend([0] * exponent)
        exponent = 0
    return Decimal((sign, tuple(kept), exponent))


# --- contestants ------------------------------------------------------------------------

CONTESTANT_COLUMNS = {
    "bib": "参赛号", "name": "姓名", "gender": "性别", "id_number": "身份证号",
    "unit": "工作单位", "delegation": "代表队", "phone": "手机",
}
# Other headers delegations' sheets use for the same columns (read as CONTESTANT_COLUMNS).
CONTESTANT_ALIASES = {
    "参赛编号": "bib", "身份证号码": "id_number", "身份证": "id_number", "单位": "unit",
    "手机号": "phone", "手机号码": "phone", "联系电话": "phone", "电话": "phone",
}
MAX_REASON = 2000  # characters of a reason (absence, disqualification)
GENDERS = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}
BIB_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_problem(number: str) -> str | None:
    """Why `number` is not a valid 18-character PRC resident ID number, or None."""
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return _("an ID number has 17 digits and a check digit (0–9 or X)")
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return _("the date of birth in the ID number (%(date)s) is not a date",
                 date=number[6:14])
    expected = ID_CHECK[sum(int(digit) * weight
                            for digit, weight in zip(number, ID_WEIGHTS)) % 11]
    if number[17] != expected:
        return _("the check digit is wrong (the last character should be %(expected)s)",
                 expected=expected)
    return None


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS)) % 11]


@dataclass
class ContestantRow:
    row: int
    bib: str | None  # None: registered without one; the draw gives it
    name: str
    gender: str | None
    id_number: str | None
    unit: str | None
    delegation: str | None
    phone: str | None
    # The file's columns (key -> header as written): a column the file lacks changes nothing.
    columns: dict[str, str] = field(default_factory=lambda: dict(CONTESTANT_COLUMNS))


def check_contestant(values: dict[str, str]) -> tuple[dict[str, str | None], dict[str, str]]:
    """One contestant's fields (bib, name, gender, id_number, unit, delegation, phone) as
    typed: the clean values, and the problem of each field that has one. Used by the file
    import and by the console's form alike."""
    clean: dict[str, str | None] = {}
    problems: dict[str, str] = {}
    bib = (values.get("bib") or "").strip()
    if bib and not BIB_PATTERN.match(bib):  # none: the draw gives one
        problems["bib"] = _(
            "a bib is a letter or digit followed by letters, digits, - or _ (at most 20)")
    clean["bib"] = bib or None
    name = values.get("name", "").strip()
    if not name:
        problems["name"] = _("the name is empty")
    for key, limit in (("name", 100), ("unit", 200), ("delegation", 100)):
        text = values.get(key, "").strip()
        problem = text_problem(text, limit)
        if problem:
            problems[key] = problem
        clean[key] = text or None
    gender_text = values.get("gender", "").strip()
    clean["gender"] = GENDERS.get(gender_text.lower()) if gender_text else None
    if gender_text and clean["gender"] is None:
        problems["gender"] = _("“%(value)s” is not a gender (男, 女, M or F)", value=gender_text)
    id_number = values.get("id_number", "").upper().replace(" ", "").strip() or None
    if id_number and "E+" in id_number:
        problems["id_number"] = _(
            "Excel stored this ID number as a number and lost its last digits: format "
            "the column as text and type it again")
    elif id_number:
        problem = id_number_problem(id_number)
        if problem:
            problems["id_number"] = problem
    clean["id_number"] = id_number
    phone, problem = check_phone(values.get("phone") or "")
    if problem:
        problems["phone"] = problem
    clean["phone"] = phone
    if "status_reason" in values:  # the console's form: why absent or disqualified
        reason = (values["status_reason"] or "").strip()
        problem = text_problem(reason, MAX_REASON, lines=True)
        if problem:
            problems["status_reason"] = problem
        clean["status_reason"] = reason or None
    return clean, problems


MOBILE = re.compile(r"1[0-9]{10}")
# A landline with its area code: 010 and 02X have 8-digit numbers, the other area codes
# (0 and three digits, the first 3-9) 7 or 8.
LANDLINE = re.compile(r"(010|02[0-9])([0-9]{8})|(0[3-9][0-9]{2})([0-9]{7,8})")


def check_phone(text: str) -> tuple[str | None, str | None]:
    """A phone number as typed ("138 0013 8000", "+86 13800138000", "(0755)8888-1234"):
    (the number as stored, None), or (None, why not). Stored as the 11 digits of a mobile,
    or area code, "-" and number for a landline ("0755-88881234"). Digits are ASCII only
    (full-width ones are refused, as in an ID number: tests/test_hostile.py bug 10)."""
    digits = re.sub(r"[\s()\-（）]", "", text)
    if not digits:
        return None, None
    digits = digits.removeprefix("+86").removeprefix("0086")
    if MOBILE.fullmatch(digits):
        return digits, None
    landline = LANDLINE.fullmatch(digits)
    if landline:
        area, number = [part for part in landline.groups() if part]
        return f"{area}-{number}", None
    return None, _("a mobile number has 11 digits and begins with 1; a landline has its "
                   "area code (010-12345678): “%(value)s” is neither", value=text[:40])


def bib_finder(bibs: Iterable[str]) -> Callable[[str], str | None]:
    """Find a registered bib as typed, or as Excel shows it after eating leading zeros
    ("03" typed in a number cell becomes 3), when that is unambiguous."""
    registered = set(bibs)
    by_number: dict[str, list[str]] = {}
    for bib in registered:
        if bib.isdigit():
            by_number.setdefault(bib.lstrip("0"), []).append(bib)

    def find(text: str) -> str | None:
        if text in registered:
            return text
        candidates = by_number.get(text.lstrip("0"), []) if text.isdigit() else []
        return candidates[0] if len(candidates) == 1 else None

    return find


def mark_problem(problem: str | None, criterion: rules.CriterionRule) -> str | None:
    """The person's reason for a rules.check_mark problem code."""
    if problem is None:
        return None
    messages: dict[str, Callable[[], str]] = {
        "not_a_number": lambda: _("not a number"),
        "below_zero": lambda: _("below 0"),
        "too_large": lambda: _("too large: a measured value is below 1,000,000,000"),
        "above_max": lambda: _("above the maximum %(max)s", max=criterion.max),
        "off_step": lambda: _("not a multiple of the step %(step)s", step=criterion.step),
        "too_precise": lambda: _("more than 4 decimal places"),
        "not_a_level": lambda: _("not a level: a judgement level is a whole number 0, 1, 2 or 3"),
        "below_range": lambda: _("below the range %(low)s–%(high)s %(unit)s",
                                 low=criterion.range[0] if criterion.range else "",
                                 high=criterion.range[1] if criterion.range else "",
                                 unit=criterion.unit),
        "above_range": lambda: _("above the range %(low)s–%(high)s %(unit)s",
                                 low=criterion.range[0] if criterion.range else "",
                                 high=criterion.range[1] if criterion.range else "",
                                 unit=criterion.unit),
    }
    return messages[problem]()


# What a Chinese keyboard types in full width (全角), read as the ASCII a number is made of:
# the digits, the full stop (．and the ideographic 。), plus and minus, the ideographic space.
FULL_WIDTH = {**{0xFF10 + digit: str(digit) for digit in range(10)},
              0xFF0E: ".", 0x3002: ".", 0xFF0B: "+", 0xFF0D: "-", 0x3000: " "}


def half_width(text: str) -> str:
    """`３２．５` and `32。5` as `32.5`; nothing else changes (no other digits of Unicode)."""
    return text.translate(FULL_WIDTH)


def parse_mark(text: str, criterion: rules.CriterionRule) -> tuple[Decimal | None, str | None]:
    """A typed mark as a Decimal, or the reason it is not one (empty, NaN, 1e3, 12,5...).
    Full-width digits and full stops from a Chinese keyboard are read (half_width). On a
    judgement or measurement criterion what is typed is the level or the measured value
    (rules.check_entered), which rules.mark_for turns into the mark."""
    text = half_width(text).strip()
    if not text:
        return None, _("the mark is empty")
    try:
        value = rules.parse_decimal(text)
    except (ValueError, ArithmeticError):
        return None, _("“%(value)s” is not a number", value=text)
    check = rules.check_entered if criterion.entered else rules.check_mark
    problem = mark_problem(check(criterion, value), criterion)
    return (None, problem) if problem else (normal_mark(value), None)


@dataclass
class ScoreRow:
    row: int
    bib: str
    criterion: str
    judge: str
    score: Decimal


MAX_TIME = 7 * 24 * 3600  # no task of a skills competition lasts a week


def parse_time(text: str) -> int:
    """Seconds from "9000", "mm:ss" or "h:mm:ss"; ValueError otherwise."""
    parts = text.strip().split(":")
    if not all(part.isdigit() and part.isascii() for part in parts) or len(parts) > 3:
        raise ValueError(text)
    numbers = [int(part) for part in parts]
    if any(number >= 60 for number in numbers[1:]):
        raise ValueError(text)
    seconds = 0
    for number in numbers:
        seconds = seconds * 60 + number
    if seconds > MAX_TIME:
        raise ValueError(text)
    return seconds


def format_time(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


@dataclass
class EntryRow:
    row: int
    bib: str
    status: str | None
    time: int | None



@dataclass(frozen=True)
class SchemeFile:
    """A checked scheme: the rules' view plus what only the database keeps."""

    scheme: rules.Scheme
    competition: str | None
    weights: dict[str, str]  # criterion code -> the weight as written ("0.3", "7/30")
    shares: list[str | None]  # per award tier, the share as written
    # criterion code -> blind (its marks public only once decoded); absent means blind
    blind: dict[str, bool] = field(default_factory=dict)
    appeal_hours: int = 2  # the appeal window after the provisional publication
