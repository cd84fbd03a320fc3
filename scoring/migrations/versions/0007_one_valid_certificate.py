"""one valid certificate per entry

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:00:00

Before the index, certificates printed twice at once could leave two valid certificates for
one winner: all but the newest are revoked first.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE certificates SET revoked_at = created_at WHERE revoked_at IS NULL AND id NOT IN "
        "(SELECT MAX(id) FROM certificates WHERE revoked_at IS NULL GROUP BY entry_id)")
    op.create_index('certificates_one_valid', 'certificates', ['entry_id'], unique=True,
                    sqlite_where=sa.text('revoked_at IS NULL'),
                    postgresql_where=sa.text('revoked_at IS NULL'))


def downgrade():
    op.drop_index('certificates_one_valid', table_name='certificates')
