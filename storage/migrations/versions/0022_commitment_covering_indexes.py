"""the indexes that find a record's commitments cover what a scorecard counts

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 06:00:00

Why: `report P-n` reads a partnership's commitments through the indexes on commitment.handoff_id,
peer_sync_id, meeting_id and lead_id, then each row from the table for its status and dates (the
busy partnership of bench/report_scale.py: 10,000 rows, 13 ms). Each index now also holds status,
closed_at, due_at and created_at (and, on PostgreSQL, the id, which SQLite's hold anyway), so that
read is index-only (6 ms), and only the commitments that have such a record are in it, so that a
plain `commit` writes none of the four (issue 25).
The index on commitment.owner_id holds status, closed_at and due_at too: the coaching view counts
the commitments each rep kept and finds those overdue in it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

LINKS = ('handoff_id', 'peer_sync_id', 'meeting_id', 'lead_id')
COUNTED = ['status', 'closed_at', 'due_at', 'created_at']


def upgrade() -> None:
    for column in LINKS:
        op.drop_index(f'ix_commitment_{column}', table_name='commitment')
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(f'ix_commitment_{column}', 'commitment', [column, *COUNTED], sqlite_where=where,
                        postgresql_where=where, postgresql_include=['id'])
    op.drop_index('ix_commitment_owner_id', table_name='commitment')
    op.create_index('ix_commitment_owner_id', 'commitment', ['owner_id', 'status', 'closed_at', 'due_at'])


def downgrade() -> None:
    op.drop_index('ix_commitment_owner_id', table_name='commitment')
    op.create_index('ix_commitment_owner_id', 'commitment', ['owner_id'])
    for column in LINKS:
        op.drop_index(f'ix_commitment_{column}', table_name='commitment')
        op.create_index(f'ix_commitment_{column}', 'commitment', [column])
