"""partnerships, peer syncs, claims; cadence columns on commitment and handoff

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:18:46.852914
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('claim',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('partnership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'name_key'),
    sa.UniqueConstraint('workspace_id', 'number')
    )
    op.create_table('partnership_channel',
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('bound_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('partnership_id', 'workspace_id', 'channel')
    )
    op.create_table('partnership_goal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('partnership_goal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_goal_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('partnership_member',
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('added_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('partnership_id', 'person_id')
    )
    with op.batch_alter_table('partnership_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_member_person_id'), ['person_id'], unique=False)

    op.create_table('peer_sync',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('week', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('deadline_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('pledges_due_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('digest_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'week'),
    sa.UniqueConstraint('workspace_id', 'number')
    )
    with op.batch_alter_table('peer_sync', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_peer_sync_deadline_at'), ['deadline_at'], unique=False)

    op.create_table('sync_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('time', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('next_run_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'person_id')
    )
    with op.batch_alter_table('sync_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_series_next_run_at'), ['next_run_at'], unique=False)

    op.create_table('sync_answer',
    sa.Column('peer_sync_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('prompted_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('nudges', sa.Integer(), nullable=False),
    sa.Column('last_nudged_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('edited_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['peer_sync_id'], ['peer_sync.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('peer_sync_id', 'person_id')
    )
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('peer_sync_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cadence_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cadence_step', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f('ix_commitment_cadence_at'), ['cadence_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_peer_sync_id'), ['peer_sync_id'], unique=False)
        batch_op.create_foreign_key('fk_commitment_peer_sync_id', 'peer_sync', ['peer_sync_id'], ['id'])

    with op.batch_alter_table('handoff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accept_nudged_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('stale_reported_at', storage.types.UTCDateTime(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('handoff', schema=None) as batch_op:
        batch_op.drop_column('stale_reported_at')
        batch_op.drop_column('accept_nudged_at')

    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_commitment_peer_sync_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_commitment_peer_sync_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_cadence_at'))
        batch_op.drop_column('cadence_step')
        batch_op.drop_column('cadence_at')
        batch_op.drop_column('peer_sync_id')

    op.drop_table('sync_answer')
    with op.batch_alter_table('sync_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sync_series_next_run_at'))

    op.drop_table('sync_series')
    with op.batch_alter_table('peer_sync', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_peer_sync_deadline_at'))

    op.drop_table('peer_sync')
    with op.batch_alter_table('partnership_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_member_person_id'))

    op.drop_table('partnership_member')
    with op.batch_alter_table('partnership_goal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_goal_partnership_id'))

    op.drop_table('partnership_goal')
    op.drop_table('partnership_channel')
    op.drop_table('partnership')
    op.drop_table('claim')
