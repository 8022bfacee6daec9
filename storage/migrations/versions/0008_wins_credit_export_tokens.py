"""wins, credit, export tokens

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 19:10:27.167737
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_token',
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_table('win',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('record', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('handoff_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.Integer(), nullable=True),
    sa.Column('won_by_id', sa.Integer(), nullable=False),
    sa.Column('won_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['handoff_id'], ['handoff.id'], ),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], ),
    sa.ForeignKeyConstraint(['won_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('handoff_id'),
    sa.UniqueConstraint('lead_id'),
    sa.UniqueConstraint('workspace_id', 'record')
    )
    op.create_table('win_credit',
    sa.Column('win_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('roles', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('share', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['win_id'], ['win.id'], ),
    sa.PrimaryKeyConstraint('win_id', 'person_id')
    )
    with op.batch_alter_table('win_credit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_win_credit_person_id'), ['person_id'], unique=False)
    with op.batch_alter_table('activity_log', schema=None) as batch_op:
        batch_op.create_index('ix_activity_log_record', ['workspace_id', 'record'], unique=False)
    # a person's scorecard reads the leads they raised and the meetings they organised
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_created_by_id'), ['created_by_id'], unique=False)
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meeting_organiser_id'), ['organiser_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meeting_organiser_id'))
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_created_by_id'))
    with op.batch_alter_table('activity_log', schema=None) as batch_op:
        batch_op.drop_index('ix_activity_log_record')
    with op.batch_alter_table('win_credit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_win_credit_person_id'))

    op.drop_table('win_credit')
    op.drop_table('win')
    op.drop_table('export_token')
