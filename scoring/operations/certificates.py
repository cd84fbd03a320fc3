"""Winners' certificates: issuing their unguessable tokens and checking them for /verify.

Issuing is idempotent: a winner whose award is unchanged keeps the token already printed;
a changed award revokes the old certificate and issues a new one; a certificate whose
holder no longer wins is revoked. Like the other operations, this adds and flushes only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import policy
from ..extensions import db
from ..models import Certificate, Entry, Event, User, utcnow
from ..problems import InputError, Problem
from ..queries.results import EventResults, event_results
from . import audit, lock_event

TOKEN_BYTES = 18  # 24 URL-safe characters, 144 random bits


@dataclass
class Issued:
    certificates: list[Certificate]  # valid ones, in the order of the standings
    created: int
    revoked: int
    results: EventResults


def issue_certificates(event: Event, actor: str, user: User | None = None) -> Issued:
    """Make sure every current winner holds exactly one valid certificate for their award."""
    lock_event(event)  # two prints at once issue one set
    problem = policy.refusal("certificates", event, user)
    if problem:
        raise InputError(Problem(problem, field="EVENT"))
    results = event_results(event)
    valid = {certificate.entry_id: certificate for certificate in db.session.scalars(
        select(Certificate).join(Entry).where(Entry.event_id == event.id,
                                              Certificate.revoked_at.is_(None)))}
    entries = {entry.id: entry for entry in db.session.scalars(
        select(Entry).where(Entry.event_id == event.id).options(joinedload(Entry.contestant)))}
    now = utcnow()
    certificates, created, revoked = [], 0, 0
    for result in results.standings.results:
        if not result.award:
            continue
        entry = entries[results.entries[result.bib].id]
        certificate = valid.pop(entry.id, None)
        if certificate is not None and certificate.award != result.award:
            certificate.revoked_at = now
            revoked += 1
            certificate = None
        if certificate is None:
            certificate = Certificate(entry_id=entry.id, award=result.award,
                                      token=secrets.token_urlsafe(TOKEN_BYTES), created_at=now)
            certificate.entry = entry
            db.session.add(certificate)
            created += 1
        certificates.append(certificate)
    for certificate in valid.values():  # holders who no longer win
        certificate.revoked_at = now
        revoked += 1
    db.session.flush()
    if created or revoked:
        audit("certificates.issue", actor, event, created=created, revoked=revoked,
              valid=len(certificates))
    return Issued(certificates, created, revoked, results)
