"""blind criteria and their decoding; an opaque key per entry for the judges' pages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:00:00

`criteria.blind` (default true, as the scheme file's `blind`) keeps a criterion's marks off
the public results until it is decoded (`decoded_at`, `decoded_by`). Criteria of events
already published on upgrade count as decoded (their results were public). `entries.sheet_key`
is a random key that names an entry on a non-blind mark sheet (a blind sheet names it by
its blind code): never the entry's id, bib or order.
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('criteria') as batch:
        batch.add_column(sa.Column('blind', sa.Boolean(), nullable=False,
                                   server_default=sa.true()))
        batch.add_column(sa.Column('decoded_at', sa.DateTime(), nullable=True))
        batch.add_column(sa.Column('decoded_by', sa.String(length=80), nullable=True))
    op.execute("UPDATE criteria SET decoded_at = CURRENT_TIMESTAMP, decoded_by = 'upgrade' "
               "WHERE event_id IN (SELECT id FROM events WHERE state = 'published')")
    with op.batch_alter_table('entries') as batch:
        batch.add_column(sa.Column('sheet_key', sa.String(length=24), nullable=True))
    connection = op.get_bind()
    entries = sa.table('entries', sa.column('id', sa.Integer),
                       sa.column('sheet_key', sa.String))
    for (entry_id,) in connection.execute(sa.select(entries.c.id)).all():
        connection.execute(entries.update().where(entries.c.id == entry_id)
                           .values(sheet_key=secrets.token_urlsafe(12)))
    with op.batch_alter_table('entries') as batch:
        batch.alter_column('sheet_key', existing_type=sa.String(length=24), nullable=False)
        batch.create_unique_constraint('uq_entries_sheet_key', ['sheet_key'])


def downgrade():
    with op.batch_alter_table('entries') as batch:
        batch.drop_constraint('uq_entries_sheet_key', type_='unique')
        batch.drop_column('sheet_key')
    with op.batch_alter_table('criteria') as batch:
        batch.drop_column('decoded_by')
        batch.drop_column('decoded_at')
        batch.drop_column('blind')
