"""CRM links of our records, and how far the activity log has gone out to the CRM

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:00:00

Why: leads, handoffs and wins go out to the CRM (issue 24) through the outbox, from the activity
log; each record's CRM id is kept so that a retried write updates what it made, and the CRM's
own changes are read back from where the last read ended.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crm_link',
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('record', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('crm', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('crm_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.PrimaryKeyConstraint('workspace_id', 'record'),
    )
    op.create_table(
        'crm_cursor',
        sa.Column('crm', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('last_log_id', sa.Integer(), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
        sa.Column('read_until', UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('crm'),
    )


def downgrade() -> None:
    op.drop_table('crm_cursor')
    op.drop_table('crm_link')
