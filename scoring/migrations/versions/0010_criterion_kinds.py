"""judgement and measurement criteria (WorldSkills style)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00

A criterion may be of kind `judgement` (judges enter a level 0-3; the mark is max x level / 3)
or `measurement` (judges enter a measured value; its band gives the mark). New criterion
columns: the level descriptors, the bands, the range and unit of a measurement; `kind` is
widened to hold "measurement". A mark keeps what the judge entered (`entered`, the level or
measured value) beside the mark, and so do its revisions. The chief judge's confirmations of
judgement levels further apart than allowed are kept in `spread_confirmations`.
Downgrading refuses while a criterion of a new kind exists.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('score', 'penalty')"
NEW_KINDS = "kind IN ('score', 'penalty', 'judgement', 'measurement')"


def upgrade():
    with op.batch_alter_table('criteria') as batch:
        batch.drop_constraint('criterion_kind', type_='check')
        batch.alter_column('kind', existing_type=sa.String(length=10),
                           type_=sa.String(length=20), existing_nullable=False)
        batch.add_column(sa.Column('levels_json', sa.Text(), nullable=True))
        batch.add_column(sa.Column('bands_json', sa.Text(), nullable=True))
        batch.add_column(sa.Column('range_min', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('range_max', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('unit', sa.String(length=20), nullable=True))
        batch.create_check_constraint('criterion_kind', NEW_KINDS)
    with op.batch_alter_table('marks') as batch:
        batch.add_column(sa.Column('entered', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('mark_revisions') as batch:
        batch.add_column(sa.Column('old_entered', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('new_entered', sa.BigInteger(), nullable=True))
    op.create_table('spread_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('levels_json', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['criteria.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )


def downgrade():
    count = op.get_bind().execute(sa.text(
        "SELECT COUNT(*) FROM criteria WHERE kind IN ('judgement', 'measurement')")).scalar()
    if count:
        raise RuntimeError(f"{count} criteria are judgement or measurement criteria: "
                           "remove them before downgrading")
    op.drop_table('spread_confirmations')
    with op.batch_alter_table('mark_revisions') as batch:
        batch.drop_column('new_entered')
        batch.drop_column('old_entered')
    with op.batch_alter_table('marks') as batch:
        batch.drop_column('entered')
    with op.batch_alter_table('criteria') as batch:
        batch.drop_constraint('criterion_kind', type_='check')
        batch.drop_column('unit')
        batch.drop_column('range_max')
        batch.drop_column('range_min')
        batch.drop_column('bands_json')
        batch.drop_column('levels_json')
        batch.alter_column('kind', existing_type=sa.String(length=20),
                           type_=sa.String(length=10), existing_nullable=False)
        batch.create_check_constraint('criterion_kind', OLD_KINDS)
