"""The `scoring` command line of FORMATS.md: a Flask CLI group, so `flask --app scoring` works.

Every command exits 0 on success; on bad input it writes nothing and prints one line per
problem on stderr, each naming the file, row and column at fault, and exits 1.
"""

from __future__ import annotations

import functools
import getpass
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app, url_for
from flask.cli import AppGroup, FlaskGroup
from flask_babel import gettext as _
from flask_babel import refresh
from flask_migrate import upgrade
from sqlalchemy import inspect, select

from . import backup
from . import demo as demo_module
from .extensions import db
from .files import exports, imports
from .files.pdf import certificate_pages, certificates_pdf, codes_pdf, results_pdf
from .files.scheme import parse_scheme
from .files.xlsx import results_xlsx
from .labels import label
from .models import User
from .operations import accounts, appeals, audit, entries, events, find_event, marks
from .operations.certificates import issue_certificates
from .problems import InputError, Problem
from .queries import appeals as appeal_queries
from .queries.analytics import event_analytics
from .queries.results import event_results
from .web.auth import is_loopback, qr_svg_file

F = TypeVar("F", bound=Callable[..., Any])
MIGRATIONS = str(Path(__file__).parent / "migrations")
BINARY_FORMATS = ("xlsx", "pdf")


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def fail(lines: list[str]) -> None:
    for line in lines:
        click.echo(_("error: %(line)s", line=line), err=True)
    sys.exit(1)


def writes(function: F) -> F:
    """Run a command in one transaction: commit, then print what the command returned; on
    InputError roll back, print the problems and exit 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        refresh()  # the language of the command line, whatever ran before in this context
        if not inspect(db.engine).has_table("events"):
            if inspect(db.engine).get_table_names():
                fail([_("the database has no tables yet: run “scoring init-db” first")])
            # A brand-new database: create the schema, as init-db would.
            upgrade(directory=MIGRATIONS)
            click.echo(_("Created the database schema (scoring init-db)."), err=True)
        try:
            output = function(*args, **kwargs)
            db.session.commit()
        except InputError as error:
            db.session.rollback()
            fail(error.lines())
        if output:
            click.echo(output)

    return wrapper  # type: ignore[return-value]


def read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(Problem(_("cannot read the file: %(error)s", error=error.strerror),
                                 file=path)) from None
    except UnicodeDecodeError:
        raise InputError(Problem(_("the file is not UTF-8 text"), file=path)) from None


@click.command("init-db")
def init_db() -> None:
    """Create or upgrade the database schema (safe to run again)."""
    upgrade(directory=MIGRATIONS)
    click.echo(_("The database is ready: %(url)s", url=db.engine.url.render_as_string()))


@click.command("demo")
@click.option("--if-empty", is_flag=True,
              help="Do nothing (but print the demo accounts) when the database has data.")
@click.option("--simulate", is_flag=True,
              help="Then keep entering the demo's remaining marks as its judges would.")
@click.option("--rate", type=click.FloatRange(0.1, 50), default=2.0,
              help="Marks a second while simulating (default 2).")
@click.option("--provisional", is_flag=True,
              help="Load it later on: every mark in, the results published provisionally, "
                   "one appeal waiting for the arbiters.")
def demo(if_empty: bool, simulate: bool, rate: float, provisional: bool) -> None:
    """Load the demo competition (a welding final) into an empty database."""
    if provisional and simulate:
        fail([_("--provisional and --simulate do not go together: every mark is in already")])
    load_demo(if_empty or simulate, provisional)
    if simulate:
        demo_module.simulate(rate, click.echo)


@writes
def load_demo(if_empty: bool, provisional: bool = False) -> str | None:
    if not demo_module.database_is_empty():
        if not if_empty:
            raise InputError(Problem(_(
                "the database already holds data: the demo loads only into an empty one")))
        if demo_module.demo_loaded():
            return "\n".join([_("The demo competition is already loaded."),
                              demo_module.accounts_text()])
        return None
    if provisional:
        return "\n".join([demo_module.load_provisional(actor()), demo_module.accounts_text()])
    return "\n".join([demo_module.load_demo(actor()), demo_module.accounts_text()])


event_group = AppGroup("event", help="Events and their scoring schemes.")


@event_group.command("chief")
@click.argument("event_code", metavar="EVENT")
@click.argument("name", metavar="NAME")
@writes
def event_chief(event_code: str, name: str) -> str:
    """Appoint a chief judge's account as the event's chief judge (before scoring opens)."""
    event = find_event(event_code)
    events.appoint_chief(event, account(name), actor())
    return _("%(name)s is the chief judge of %(code)s.", name=name, code=event.code)


@event_group.command("arbiter")
@click.argument("event_code", metavar="EVENT")
@click.argument("name", metavar="NAME")
@writes
def event_arbiter(event_code: str, name: str) -> str:
    """Put an arbiter's account in the event's arbitration group (仲裁组)."""
    event = find_event(event_code)
    appeals.appoint_arbiter(event, account(name), actor())
    return _("%(name)s is an arbiter of %(code)s.", name=name, code=event.code)


@event_group.command("state")
@click.argument("event_code", metavar="EVENT")
@click.argument("step", metavar="open|lock|provisional|publish|reopen",
                type=click.Choice(["open", "lock", "provisional", "publish", "reopen"]))
@click.option("--reason", default="", help="Why (required to reopen).")
@writes
def event_state(event_code: str, step: str, reason: str) -> str:
    """Take a step of the event's lifecycle: open scoring, lock it, publish the results
    provisionally (the appeal window opens), publish them finally, or reopen scoring."""
    event = find_event(event_code)
    events.change_state(event, step, actor(), reason=reason)
    lines = [_("%(code)s is now %(state)s.", code=event.code,
               state=label("state", event.state))]
    if event.state == "provisional" and event.appeal_window_ends_at:
        lines.append(_("Appeals are received until %(time)s.",
                       time=appeal_queries.when(event.appeal_window_ends_at)))
    return "\n".join(lines)


def account(name: str) -> User:
    user = db.session.scalar(select(User).where(User.username == name))
    if user is None:
        raise InputError(Problem(_("no account named “%(name)s”", name=name), field="NAME"))
    return user


@event_group.command("import")
@click.argument("scheme_file", metavar="SCHEME.toml")
@writes
def event_import(scheme_file: str) -> str:
    """Create an event from a scheme file, or update it while it has no marks."""
    checked = parse_scheme(read_text(scheme_file), filename=scheme_file)
    event, created = events.import_scheme(checked, actor(), scheme_file)
    if created:
        return _("Created event %(code)s (%(name)s).", code=event.code, name=event.name)
    return _("Updated event %(code)s (%(name)s).", code=event.code, name=event.name)


contestants_group = AppGroup("contestants", help="Contestants and their registration.")


@contestants_group.command("import")
@click.argument("event_code", metavar="EVENT")
@click.argument("file", metavar="FILE")
@writes
def contestants_import(event_code: str, file: str) -> str:
    """Register contestants from a .csv or .xlsx file (all rows or none)."""
    event = find_event(event_code)
    rows = imports.read_contestants(file)
    count, created = entries.import_contestants(event, rows, actor(), file)
    lines = [_("Imported %(count)s contestants into %(code)s (%(created)s new).",
               count=count, code=event.code, created=created)]
    bibless = sum(not entry.bib for entry in event.entries)
    if bibless:
        lines.append(_("%(count)s contestants have no bib yet: the draw gives them the next "
                       "free numbers.", count=bibless))
    undrawn = sum(entry.blind_code is None for entry in event.entries)
    if event.drawn_at is not None and undrawn:
        lines.append(_("Warning: %(count)s contestants have no station or blind code yet; "
                       "judges cannot mark them until lots are drawn again.", count=undrawn))
    return "\n".join(lines)


scores_group = AppGroup("scores", help="Marks.")


@scores_group.command("import")
@click.argument("event_code", metavar="EVENT")
@click.argument("file", metavar="FILE")
@writes
def scores_import(event_code: str, file: str) -> str:
    """Enter marks from a .csv or .xlsx file (all rows or none)."""
    event = find_event(event_code)
    criteria = {criterion.code: criterion.to_rule() for criterion in event.criteria}
    bibs = {entry.bib for entry in event.entries if entry.bib}
    rows = imports.read_scores(file, criteria, bibs)
    changed = marks.import_scores(event, rows, actor(), file)
    return _("Imported %(count)s marks into %(code)s (%(changed)s new or changed).",
             count=len(rows), code=event.code, changed=changed)


entries_group = AppGroup("entries", help="Contestants' status and time used.")


@entries_group.command("update")
@click.argument("event_code", metavar="EVENT")
@click.argument("file", metavar="FILE")
@writes
def entries_update(event_code: str, file: str) -> str:
    """Set status (ok, absent, dq) and time used per contestant."""
    event = find_event(event_code)
    rows = imports.read_entries(file, {entry.bib for entry in event.entries if entry.bib})
    entries.update_entries(event, rows, actor(), file)
    return _("Updated %(count)s entries of %(code)s.", count=len(rows), code=event.code)


@click.command("draw")
@click.argument("event_code", metavar="EVENT")
@click.option("--seed", type=click.IntRange(0, events.MAX_SEED), default=None,
              help="Seed of the draw; the same seed gives the same draw.")
@writes
def draw(event_code: str, seed: int | None) -> str:
    """Draw lots: station and order per contestant, from a recorded seed, and new blind
    codes (not from the seed; `scoring codes EVENT` prints them)."""
    event = find_event(event_code)
    bibless = {entry.id for entry in event.entries if not entry.bib}
    used = events.draw_lots(event, actor(), seed)
    lines = [_("Drew lots for %(count)s contestants of %(code)s with seed %(seed)s.",
               count=len(event.entries), code=event.code, seed=used)]
    if bibless:
        lines.append(_("%(count)s contestants registered without a bib were given one.",
                       count=len(bibless)))
    lines.append(_("bib\tstation\torder"))
    for entry in sorted(event.entries, key=lambda entry: entry.draw_order or 0):
        lines.append(f"{entry.bib}\t{entry.station}\t{entry.draw_order}")
    lines.append(_("Blind codes made; the sealed code list is printed with "
                   "“scoring codes %(code)s”.", code=event.code))
    return "\n".join(lines)


@click.command("codes")
@click.argument("event_code", metavar="EVENT")
@click.option("--new", "new", is_flag=True,
              help="Make new blind codes first (after the draw, before scoring opens).")
@click.option("-o", "--output", metavar="FILE.pdf", default=None,
              help="Write the sealed code list as PDF instead of printing it.")
@writes
def codes(event_code: str, new: bool, output: str | None) -> str:
    """The sealed code list (bib and blind code, by bib) for the encoding judge; --new makes
    new codes first (two-stage coding). Printing it is recorded in the audit log."""
    event = find_event(event_code)
    lines = []
    if new:
        events.recode(event, actor())
        lines.append(_("Made new blind codes for %(count)s contestants of %(code)s.",
                       count=len(event.entries), code=event.code))
    listing = events.code_list(event)
    if output:
        write_file(output, codes_pdf(listing))
        audit("codes.export", actor(), event, format="pdf", via="cli", count=listing.count)
        lines.append(_("Wrote the sealed code list of %(code)s (%(count)s codes) to %(file)s.",
                       code=event.code, count=listing.count, file=output))
    else:
        audit("codes.export", actor(), event, format="text", via="cli", count=listing.count)
        lines.append(_("bib\tblind code"))
        lines += [f"{bib}\t{code}" for bib, code in listing.codes.items()]
    click.echo(_("SHA-256 of the list: %(fingerprint)s", fingerprint=listing.fingerprint),
               err=True)
    return "\n".join(lines)


@click.command("decode")
@click.argument("event_code", metavar="EVENT")
@click.argument("criteria", metavar="[CRITERION...]", nargs=-1)
@writes
def decode(event_code: str, criteria: tuple[str, ...]) -> str:
    """Decode blind criteria (解密): their marks reach the public board and API. With no
    criterion named, every one whose sheets are all signed. Recorded; never undone."""
    event = find_event(event_code)
    decoded = events.decode(event, list(criteria), actor())
    lines = [_("Decoded %(criteria)s of %(code)s: their marks are now public.",
               criteria=", ".join(decoded), code=event.code)]
    open_work = events.blind_unfinished(event)
    lines += [_("Still blind: %(code)s", code=criterion.code)
              + (f" ({reason})" if (reason := events.decode_refusal(event, criterion, open_work))
                 else "")
              for criterion in event.criteria if not criterion.public]
    return "\n".join(lines)


appeal_group = AppGroup("appeal", help="Appeals against provisional results (申诉).")


@appeal_group.command("file")
@click.argument("event_code", metavar="EVENT")
@click.argument("bib", metavar="BIB")
@click.option("--criteria", required=True, metavar="C1,C2",
              help="The criteria the appeal is about, by code, separated by commas.")
@click.option("--text", required=True, help="What the written appeal says.")
@click.option("--delegation", default=None, help="Who lodged it (default: the contestant's).")
@writes
def appeal_file(event_code: str, bib: str, criteria: str, text: str,
                delegation: str | None) -> str:
    """Record a written appeal as received now; refused outside the appeal window."""
    event = find_event(event_code)
    appeal = appeals.file_appeal(event, bib, re.split(r"[,，\s]+", criteria), text, actor(),
                                 delegation=delegation)
    return _("Appeal #%(id)s about %(bib)s (%(criteria)s) received; the window ends at "
             "%(time)s.", id=appeal.id, bib=bib, criteria=", ".join(appeal.criteria),
             time=appeal_queries.when(event.appeal_window_ends_at))


@appeal_group.command("rule")
@click.argument("appeal_id", metavar="APPEAL_ID")
@click.argument("ruling", metavar="dismissed|recheck|final",
                type=click.Choice(["dismissed", "recheck", "final"]))
@click.option("--reason", required=True, help="The ruling's reason (kept in the file).")
@writes
def appeal_rule(appeal_id: str, ruling: str, reason: str) -> str:
    """The arbitration group's ruling: dismiss the appeal or order a re-check; after the
    re-check, `final` records the outcome (changed or unchanged)."""
    appeal = appeals.find_appeal(appeal_id)
    status = appeals.rule(appeal, ruling, reason, actor())
    return _("Appeal #%(id)s: %(status)s.", id=appeal.id, status=label("appeal", status))


@click.command("board")
@click.argument("event_code", metavar="EVENT")
@click.argument("visibility", metavar="hidden|live|frozen|published")
@writes
def board(event_code: str, visibility: str) -> str:
    """Set what the public board shows: nothing, live results, a frozen moment, the final."""
    event = find_event(event_code)
    events.set_visibility(event, visibility, actor())
    return _("The board of %(code)s is now %(visibility)s.", code=event.code,
             visibility=label("visibility", visibility))


@click.command("backup")
@click.argument("file", metavar="FILE")
@writes
def backup_command(file: str) -> str:
    """Copy the whole database into FILE while it is in use (SQLite or PostgreSQL)."""
    backup.backup(file)
    return _("Backed up the database into %(file)s.", file=file)


@click.command("restore")
@click.argument("file", metavar="FILE")
@writes
def restore_command(file: str) -> str:
    """Replace the database's contents with a backup made by `scoring backup`."""
    backup.restore(file)
    return _("Restored the database from %(file)s.", file=file)


user_group = AppGroup("user", help="Accounts of organisers, chief judges and judges.")


@user_group.command("create")
@click.argument("name", metavar="NAME")
@click.option("--role", required=True,
              type=click.Choice(["organiser", "chief", "judge", "arbiter"]))
@click.option("--password", default=None, help="At least 8 characters; generated if absent.")
@click.option("--display-name", default=None, help="The name people see (default NAME).")
@click.option("--delegation", default=None,
              help="The judge's own delegation, for conflicts of interest.")
@click.option("--event", "event_codes", multiple=True, metavar="EVENT",
              help="For a chief judge: the event they are chief of; for an arbiter: the "
                   "event whose arbitration group they are in (repeatable).")
@writes
def user_create(name: str, role: str, password: str | None, display_name: str | None,
                delegation: str | None, event_codes: tuple[str, ...]) -> str:
    """Create an account; a password is generated and printed when none is given."""
    if event_codes and role not in ("chief", "arbiter"):
        raise InputError(Problem(_("--event is for chief judges' and arbiters' accounts"),
                                 field="--event"))
    user, used = accounts.create_user(name, role, password, actor(), display_name,
                                      delegation)
    for code in event_codes:
        if role == "arbiter":
            appeals.appoint_arbiter(find_event(code), user, actor())
        else:
            events.appoint_chief(find_event(code), user, actor())
    lines = [_("Created %(role)s account %(name)s.", role=label("role", role),
               name=user.username)]
    if password is None:
        lines.append(_("Password: %(password)s", password=used))
    return "\n".join(lines)


@user_group.command("disable")
@click.argument("name", metavar="NAME")
@writes
def user_disable(name: str) -> str:
    """Disable an account: it can no longer sign in, and its sessions end at once."""
    accounts.set_active(account(name), False, actor())
    return _("Disabled %(name)s; its sessions have ended.", name=name)


@user_group.command("enable")
@click.argument("name", metavar="NAME")
@writes
def user_enable(name: str) -> str:
    """Enable a disabled account again."""
    accounts.set_active(account(name), True, actor())
    return _("Enabled %(name)s.", name=name)


@user_group.command("reset")
@click.argument("name", metavar="NAME")
@click.option("--password", default=None, help="At least 8 characters; generated if absent.")
@writes
def user_reset(name: str, password: str | None) -> str:
    """Set a new password (generated when none is given); every session of the account ends."""
    used = accounts.reset_password(account(name), password, actor())
    lines = [_("Reset the password of %(name)s; its sessions have ended.", name=name)]
    if password is None:
        lines.append(_("Password: %(password)s", password=used))
    return "\n".join(lines)


@user_group.command("link")
@click.argument("name", metavar="NAME")
@click.option("--hours", type=click.IntRange(1, 24 * 14), default=24,
              help="How long the link stays valid (default 24).")
@click.option("--base-url", default=None,
              help="The address tablets reach the server at (default: SCORING_PUBLIC_URL, "
                   "else http://127.0.0.1:5000).")
@click.option("-o", "--output", default=None, help="Also write the QR code as an SVG file.")
@click.option("--revoke", is_flag=True, help="Revoke every link of this account instead.")
@writes
def user_link(name: str, hours: int, base_url: str | None, output: str | None,
              revoke: bool) -> str:
    """Make a sign-in link (print it as a QR code) for an account, or revoke its links."""
    user = account(name)
    if revoke:
        count = accounts.revoke_sign_in_links(user, actor())
        return _("Revoked %(count)s sign-in links of %(name)s.", count=count, name=name)
    base_url = (base_url or current_app.config.get("SCORING_PUBLIC_URL")
                or "http://127.0.0.1:5000").rstrip("/")
    token = accounts.create_sign_in_link(user, hours, actor())
    with current_app.test_request_context(base_url=base_url):
        url = url_for("auth.link_login", token=token, _external=True)
    if output:
        try:
            Path(output).write_text(qr_svg_file(url), encoding="utf-8")
        except OSError as error:
            raise InputError(Problem(_("cannot write the file: %(error)s",
                                       error=error.strerror), file=output)) from None
    lines = [_("Sign-in link for %(name)s, valid for %(hours)s hours:", name=name,
               hours=hours), url]  # the link last: scripts take the last line
    if is_loopback(base_url):
        lines.insert(0, _("Warning: %(address)s is this machine's own address: a tablet "
                          "cannot reach it. Give --base-url (or SCORING_PUBLIC_URL) with the "
                          "address tablets reach the server at.", address=base_url))
    return "\n".join(lines)


judge_group = AppGroup("judge", help="Judges' assignments.")


@judge_group.command("assign")
@click.argument("event_code", metavar="EVENT")
@click.argument("judge", metavar="JUDGE")
@click.argument("criteria", metavar="CRITERION...", nargs=-1, required=True)
@writes
def judge_assign(event_code: str, judge: str, criteria: tuple[str, ...]) -> str:
    """Let a judge mark those criteria of the event."""
    event = find_event(event_code)
    accounts.assign_judge(event, judge, criteria, actor())
    return _("%(judge)s now marks %(codes)s of %(code)s.", judge=judge,
             codes=", ".join(dict.fromkeys(criteria)), code=event.code)


results_group = AppGroup("results", help="Results.")


@results_group.command("export")
@click.argument("event_code", metavar="EVENT")
@click.option("--format", "format_", required=True,
              type=click.Choice(["csv", "xlsx", "json", "pdf"]))
@click.option("-o", "--output", default=None,
              help="File to write (default: stdout, for CSV and JSON only).")
@click.option("--bom/--no-bom", default=None,
              help="Start a CSV with a byte order mark (default: yes in a file, no on stdout).")
@writes
def results_export(event_code: str, format_: str, output: str | None,
                   bom: bool | None) -> None:
    """Export the results table: CSV and JSON (to stdout when -o is absent), XLSX (results,
    team ranking, judges' marks, audit log) and PDF (the printable results sheet) to a file."""
    event = find_event(event_code)
    if format_ in BINARY_FORMATS and output is None:
        raise InputError(Problem(_("the %(format)s export is a binary file: give one with "
                                   "-o FILE", format=format_.upper()), field="--output"))
    results = event_results(event)
    if format_ == "csv":
        data = exports.results_csv(results, bom=output is not None if bom is None else bom)
    elif format_ == "json":
        data = exports.results_json(results)
    elif format_ == "xlsx":
        data = results_xlsx(results)
    else:
        data = results_pdf(results)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(output, data)
    audit("results.export", actor(), event, format=format_, file=output or "-")


ANALYTICS_FORMATS = ("csv", "json")


@click.command("analytics")
@click.argument("event_code", metavar="EVENT")
@click.option("--format", "format_", default="csv", metavar="csv|json",
              help="csv or json (the same columns: judge, criterion, n, severity, deviation, "
                   "consistency).")
@click.option("-o", "--output", default=None, help="File to write (default: stdout).")
@writes
def analytics(event_code: str, format_: str | None, output: str | None) -> None:
    """Judge analytics: per judge and criterion, the entries compared (n), severity (the mean
    of the judge's mark less the others' mean), deviation (the mean of its size) and
    consistency (the correlation with the others' means). For the chief judge and the
    organisers: never public."""
    if format_ not in ANALYTICS_FORMATS:
        raise InputError(Problem(_("--format is csv or json, not “%(format)s”",
                                   format=format_ or ""), field="--format"))
    event = find_event(event_code)
    figures = event_analytics(event)
    if format_ == "csv":
        data = exports.analytics_csv(event, figures, bom=output is not None)
    else:
        data = exports.analytics_json(event, figures)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(output, data)
    audit("analytics.export", actor(), event, format=format_, file=output or "-")


@click.command("certificates")
@click.argument("event_code", metavar="EVENT")
@click.option("-o", "--output", required=True, help="The PDF file to write.")
@click.option("--base-url", default=None,
              help="The address the public reaches the server at, for the QR codes "
                   "(default: SCORING_PUBLIC_URL, else http://127.0.0.1:5000).")
@writes
def certificates(event_code: str, output: str, base_url: str | None) -> str:
    """Issue the winners' certificates (once scoring is locked) and write them as a PDF, one
    page each with a QR code to its verification page; unchanged awards keep their codes."""
    event = find_event(event_code)
    issued = issue_certificates(event, actor())
    base = (base_url or current_app.config.get("SCORING_PUBLIC_URL")
            or "http://127.0.0.1:5000").rstrip("/")
    with current_app.test_request_context(base_url=base):
        urls = {certificate.token: url_for("exports.verify", token=certificate.token,
                                           _external=True)
                for certificate in issued.certificates}
    data = certificates_pdf(certificate_pages(issued), urls.__getitem__,
                            title=event.name)
    write_file(output, data)
    audit("certificates.export", actor(), event, count=len(issued.certificates),
                     file=output)
    return _("Wrote %(count)s certificates of %(code)s to %(file)s (%(created)s new, "
             "%(revoked)s revoked).", count=len(issued.certificates), code=event.code,
             file=output, created=issued.created, revoked=issued.revoked)


def write_file(path: str, data: bytes) -> None:
    try:
        Path(path).write_bytes(data)
    except OSError as error:
        raise InputError(Problem(_("cannot write the file: %(error)s",
                                   error=error.strerror), file=path)) from None


COMMANDS = (init_db, demo, event_group, contestants_group, scores_group, entries_group, draw,
            codes, decode, board, backup_command, restore_command, user_group, judge_group,
            results_group, analytics, certificates, appeal_group)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    """The command line's app. FlaskGroup makes one for each command it runs, and its engine
    with its own pool: when the command's app context ends, the session is removed and the
    engines disposed, so the connections the command opened are closed then. Left to the
    garbage collector they never would be before the process ends (create_app freezes the
    heap, this app with it), and many commands run in one process (bench/_server.py's
    cli_batch, tests/test_connections.py) would pile them up until PostgreSQL refuses more
    clients."""
    from . import create_app

    app = create_app()

    @app.teardown_appcontext
    def close_connections(_error: BaseException | None) -> None:
        db.session.remove()  # before Flask-SQLAlchemy's own teardown: give the connection back
        for engine in db.engines.values():
            engine.dispose()

    return app


main = FlaskGroup(create_app=_create_app, help="scoring: run a skills competition.")
