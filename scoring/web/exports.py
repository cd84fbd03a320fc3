"""Results out, on the web: the printable results sheet and the downloads for organisers and
chief judges (each download is in the audit log), and the public certificate verification.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from .. import policy
from ..extensions import db
from ..files import exports
from ..files.pdf import certificate_pages, certificates_pdf, results_pdf
from ..files.xlsx import results_xlsx
from ..models import Certificate, Event
from ..operations import audit
from ..operations.certificates import issue_certificates
from ..problems import InputError
from ..queries.certificates import find_certificate
from ..queries.results import EventResults, event_results
from . import board
from .auth import allowed, role_required
from .chief import event_or_404

bp = Blueprint("exports", __name__)
STAFF = ("organiser", "chief")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def build(results: EventResults, format_: str) -> bytes:
    """The export in `format_`; CSV with a BOM, as it is a file someone opens in Excel."""
    if format_ == "csv":
        return exports.results_csv(results, bom=True)
    if format_ == "json":
        return exports.results_json(results)
    if format_ == "xlsx":
        return results_xlsx(results)
    return results_pdf(results)


def content_disposition(ascii_name: str, name: str) -> str:
    """An attachment header with a plain ASCII name for old clients and the full name
    (Chinese included) as RFC 5987's filename* for the others."""
    fallback = re.sub(r'[^A-Za-z0-9._-]+', "_", ascii_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_name(event: Event, what: str, format_: str) -> tuple[str, str]:
    """("WELD-results.xlsx", "WELD-焊工决赛-results.xlsx"): the event's name, made safe
    for a file name, helps when an organiser downloads the files of several events."""
    title = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "", event.name).strip()[:60]
    ascii_name = f"{event.code}-{what}.{format_}"
    return ascii_name, f"{event.code}-{title}-{what}.{format_}" if title else ascii_name


def download(data: bytes, format_: str, names: tuple[str, str]) -> Response:
    response = Response(data, mimetype=MEDIA_TYPES[format_])
    response.headers["Content-Disposition"] = content_disposition(*names)
    response.headers["Cache-Control"] = "no-store"  # results may be confidential until published
    return response


def verify_url(token: str) -> str:
    """The address printed on a certificate: SCORING_PUBLIC_URL when the hall's server is
    reached under another name from outside, else the address this request came to."""
    base = current_app.config.get("SCORING_PUBLIC_URL")
    path = url_for("exports.verify", token=token)
    if base:
        return base.rstrip("/") + path
    return url_for("exports.verify", token=token, _external=True)


@bp.get("/admin/events/<event_code>/sheet")
@role_required(*STAFF)
def sheet(event_code: str) -> ResponseReturnValue:
    """The printable results sheet (成绩公示表), with links to every download."""
    event = event_or_404(event_code)
    allowed("export", event)
    results = event_results(event)
    columns = exports.sheet_columns(results)
    return render_template(
        "exports/sheet.html", event=event, results=results, columns=columns,
        rows=exports.sheet_rows(results), title=exports.sheet_title(results),
        wide=len(columns) > 9, printed_at=datetime.now().astimezone(),
        can_issue=policy.can("certificates", event, current_user))


@bp.get("/admin/events/<event_code>/export.<format_>")
@role_required(*STAFF)
def export(event_code: str, format_: str) -> ResponseReturnValue:
    if format_ not in MEDIA_TYPES:
        abort(404)
    event = event_or_404(event_code)
    allowed("export", event)
    data = build(event_results(event), format_)
    audit("results.export", current_user.username, event, user=current_user, format=format_,
          via="web", address=request.remote_addr)
    db.session.commit()
    return download(data, format_, file_name(event, "results", format_))


@bp.get("/admin/events/<event_code>/certificates.pdf")
@role_required(*STAFF)
def certificates(event_code: str) -> ResponseReturnValue:
    """The winners' certificates, issuing tokens for new or changed awards first."""
    event = event_or_404(event_code)
    allowed("certificates", event)
    try:
        issued = issue_certificates(event, current_user.username, user=current_user)
    except InputError as error:
        db.session.rollback()
        return render_template("exports/refused.html", event=event,
                               problems=[problem.message for problem in error.problems]), 409
    data = certificates_pdf(certificate_pages(issued), verify_url,
                            title=event.name)
    audit("certificates.export", current_user.username, event, user=current_user,
          count=len(issued.certificates), via="web", address=request.remote_addr)
    db.session.commit()
    return download(data, "pdf", file_name(event, "certificates", "pdf"))


def certificate_status(certificate: Certificate | None) -> str:
    """What a certificate is worth now, checked against the published results as they are
    this moment (not as they were when it was printed): "valid"; "unknown"; "withdrawn"
    (revoked, or its holder's award is no longer this one); "provisional" (the results are
    not published, or were reopened)."""
    if certificate is None:
        return "unknown"
    if certificate.revoked_at is not None:
        return "withdrawn"
    event = certificate.entry.event
    if event.state != "published" or event.visibility != "published":
        return "provisional"
    current = board.current_award(event, certificate.entry.bib)
    return "valid" if current == certificate.award else "withdrawn"


@bp.get("/verify/<token>")
def verify(token: str) -> ResponseReturnValue:
    """Anyone holding a certificate can check it: name, event and award, nothing more."""
    certificate = find_certificate(token)
    status = certificate_status(certificate)
    response = Response(render_template("verify.html", certificate=certificate, status=status),
                        200 if status == "valid" else 404)
    response.headers["X-Robots-Tag"] = "noindex"
    return response
