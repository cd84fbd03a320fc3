"""a contestant may be registered without a bib: the draw gives it one

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00

Delegations send their registration sheets without bibs (参赛号); `entries.bib` becomes
nullable and the draw gives every entry without one the next free numbers. The unique
(event_id, bib) constraint stays: both SQLite and PostgreSQL allow several NULLs in it.
Downgrading refuses while an entry has no bib (draw lots first).
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('entries') as batch:
        batch.alter_column('bib', existing_type=sa.String(length=20), nullable=True)


def downgrade():
    count = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM entries WHERE bib IS NULL")).scalar()
    if count:
        raise RuntimeError(f"{count} entries have no bib: draw lots before downgrading")
    with op.batch_alter_table('entries') as batch:
        batch.alter_column('bib', existing_type=sa.String(length=20), nullable=False)
