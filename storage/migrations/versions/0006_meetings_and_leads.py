"""meetings and leads; commitments link to them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 17:40:48.134159
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting_series',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('weekday', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('time', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('next_start_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('stopped_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organiser_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_series_next_start_at'), ['next_start_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_series_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('meeting',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('organiser_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starts_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('ends_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('nudges', sa.Integer(), nullable=False),
    sa.Column('cadence_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('cadence_step', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['organiser_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['series_id'], ['meeting_series.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('series_id', 'starts_at'),
    sa.UniqueConstraint('workspace_id', 'number')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_cadence_at'), ['cadence_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_meeting_series_id'), ['series_id'], unique=False)

    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('account', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('idea', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('close_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'number')
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_partnership_id'), ['partnership_id'], unique=False)

    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('lead_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_commitment_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commitment_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_foreign_key('fk_commitment_lead_id', 'lead', ['lead_id'], ['id'])
        batch_op.create_foreign_key('fk_commitment_meeting_id', 'meeting', ['meeting_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_constraint('fk_commitment_meeting_id', type_='foreignkey')
        batch_op.drop_constraint('fk_commitment_lead_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_commitment_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_commitment_lead_id'))
        batch_op.drop_column('lead_id')
        batch_op.drop_column('meeting_id')

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_lead_owner_id'))
        batch_op.drop_index(batch_op.f('ix_lead_meeting_id'))

    op.drop_table('lead')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_series_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_cadence_at'))

    op.drop_table('meeting')
    with op.batch_alter_table('meeting_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_series_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_meeting_series_next_start_at'))

    op.drop_table('meeting_series')
