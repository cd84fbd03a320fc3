"""Reads about certificates: the one a /verify link names."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Certificate, Entry


def find_certificate(token: str) -> Certificate | None:
    """The certificate with this token, revoked or not, or None (unknown, malformed).
    Whether it still holds is the caller's to check against the published results."""
    if not token or len(token) > 64:
        return None
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.token == token)
        .options(joinedload(Certificate.entry).joinedload(Entry.contestant),
                 joinedload(Certificate.entry).joinedload(Entry.event)))
    return certificate
