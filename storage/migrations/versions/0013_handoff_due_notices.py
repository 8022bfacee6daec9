"""a handoff's `by <date>` is reminded and noticed overdue, once each

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 17:00:00

Why: a handoff's date was shown and never acted on. Now the tick reminds before it and says
when it has passed, like a commitment's (to the sender while the receiver has not accepted,
then to the receiver). The two markers say each was sent; the tick finds handoffs near their
date by the index on due_date. Existing handoffs start with neither sent: one whose date has
passed gets its overdue notice at the first tick.
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handoff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_reminded_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('overdue_notified_at', storage.types.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_handoff_due_date'), ['due_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('handoff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_handoff_due_date'))
        batch_op.drop_column('overdue_notified_at')
        batch_op.drop_column('due_reminded_at')
