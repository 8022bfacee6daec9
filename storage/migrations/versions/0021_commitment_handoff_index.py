"""an index on commitment.handoff_id

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 04:00:00

Why: a partnership's report and list find the commitments made about the handoffs between its
sides; without this index they were looked for among all the members' own commitments (10,000
for bench/report_scale.py's busy partnership, 7 ms of `report P-1`, issue 25).
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_commitment_handoff_id', 'commitment', ['handoff_id'])


def downgrade() -> None:
    op.drop_index('ix_commitment_handoff_id', table_name='commitment')
