"""provisional publication, appeals, re-checks and arbiters

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 08:00:00

The lifecycle gains `provisional` (公示) between `locked` and `published`: `events.appeal_hours`
(the scheme's appeal window, default 2) and `events.provisional_at` (when the provisional
publication started). Accounts gain the role `arbiter` (仲裁组; appointed per event in
`event_staff`, whose role check already allows it). `appeals` holds each written appeal and
its rulings; `mark_revisions.appeal_id` links a re-check's change of a mark to its appeal.
Downgrading refuses while an event is provisional or an arbiter's account exists.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

OLD_STATES = "('setup', 'registration', 'drawn', 'scoring', 'locked', 'published')"
NEW_STATES = "('setup', 'registration', 'drawn', 'scoring', 'locked', 'provisional', 'published')"
OLD_ROLES = "('organiser', 'chief', 'judge')"
NEW_ROLES = "('organiser', 'chief', 'judge', 'arbiter')"
APPEAL_STATUSES = "('received', 'dismissed', 'recheck', 'changed', 'unchanged')"


def upgrade():
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('appeal_hours', sa.Integer(), nullable=False,
                                   server_default=sa.text('2')))
        batch.add_column(sa.Column('provisional_at', sa.DateTime(), nullable=True))
        batch.drop_constraint('event_state', type_='check')
        batch.create_check_constraint('event_state', f"state IN {NEW_STATES}")
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('user_role', type_='check')
        batch.create_check_constraint('user_role', f"role IN {NEW_ROLES}")
    op.create_table(
        'appeals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('delegation', sa.String(length=100), nullable=True),
        sa.Column('criteria_json', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('received_by', sa.String(length=100), nullable=False),
        sa.Column('before_json', sa.Text(), nullable=False),
        sa.Column('ruling_reason', sa.Text(), nullable=True),
        sa.Column('ruled_at', sa.DateTime(), nullable=True),
        sa.Column('ruled_by', sa.String(length=100), nullable=True),
        sa.Column('final_reason', sa.Text(), nullable=True),
        sa.Column('final_at', sa.DateTime(), nullable=True),
        sa.Column('final_by', sa.String(length=100), nullable=True),
        sa.CheckConstraint(f"status IN {APPEAL_STATUSES}", name='appeal_status'),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id']),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('appeals_event', 'appeals', ['event_id'])
    with op.batch_alter_table('mark_revisions') as batch:
        batch.add_column(sa.Column('appeal_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_mark_revisions_appeal_id', 'appeals', ['appeal_id'],
                                 ['id'])


def downgrade():
    connection = op.get_bind()
    count = connection.execute(sa.text(
        "SELECT COUNT(*) FROM events WHERE state = 'provisional'")).scalar()
    if count:
        raise RuntimeError(f"{count} events are provisional: publish or reopen them first")
    count = connection.execute(sa.text(
        "SELECT COUNT(*) FROM users WHERE role = 'arbiter'")).scalar()
    if count:
        raise RuntimeError(f"{count} arbiters' accounts exist: remove them first")
    with op.batch_alter_table('mark_revisions') as batch:
        batch.drop_constraint('fk_mark_revisions_appeal_id', type_='foreignkey')
        batch.drop_column('appeal_id')
    op.drop_index('appeals_event', table_name='appeals')
    op.drop_table('appeals')
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('user_role', type_='check')
        batch.create_check_constraint('user_role', f"role IN {OLD_ROLES}")
    with op.batch_alter_table('events') as batch:
        batch.drop_constraint('event_state', type_='check')
        batch.create_check_constraint('event_state', f"state IN {OLD_STATES}")
        batch.drop_column('provisional_at')
        batch.drop_column('appeal_hours')
