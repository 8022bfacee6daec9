"""charter, asks, pulse

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 18:17:35.773439
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('charter_agreement',
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('agreed_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('partnership_id', 'person_id')
    )
    op.create_table('charter_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('charter_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_charter_rule_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('pulse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('opened_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closes_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('closed_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('partnership_id', 'period')
    )
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pulse_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_pulse_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('pulse_answer',
    sa.Column('pulse_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=True),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['pulse_id'], ['pulse.id'], ),
    sa.PrimaryKeyConstraint('pulse_id', 'person_id')
    )
    op.create_table('ask',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('asker_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('request', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('partnership_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('first_response_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('accepted_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('declined_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('decline_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('answered_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('cadence_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('cadence_step', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['asker_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoff.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('workspace_id', 'number')
    )
    with op.batch_alter_table('ask', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ask_asker_id'), ['asker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ask_cadence_at'), ['cadence_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ask_partnership_id'), ['partnership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ask_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('charter_version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('pulse_next_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_partnership_pulse_next_at'), ['pulse_next_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_pulse_next_at'))
        batch_op.drop_column('pulse_next_at')
        batch_op.drop_column('charter_version')

    with op.batch_alter_table('ask', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ask_person_id'))
        batch_op.drop_index(batch_op.f('ix_ask_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_ask_cadence_at'))
        batch_op.drop_index(batch_op.f('ix_ask_asker_id'))

    op.drop_table('ask')
    op.drop_table('pulse_answer')
    with op.batch_alter_table('pulse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pulse_partnership_id'))
        batch_op.drop_index(batch_op.f('ix_pulse_closes_at'))

    op.drop_table('pulse')
    with op.batch_alter_table('charter_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_charter_rule_partnership_id'))

    op.drop_table('charter_rule')
    op.drop_table('charter_agreement')
