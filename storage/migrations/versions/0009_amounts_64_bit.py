"""amounts won as 64-bit integers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00

Why: `lead L-n won 25m` is 2,500,000,000 cents, past PostgreSQL's 32-bit INTEGER; the win
failed with "Something went wrong". SQLite's INTEGER is 64-bit already: nothing to do there
(and batch mode would copy both tables for no change).
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

COLUMNS = (('lead', 'amount_cents'), ('win', 'amount_cents'))


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.BigInteger(), existing_type=sa.Integer(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, column in COLUMNS:
        op.alter_column(table, column, type_=sa.Integer(), existing_type=sa.BigInteger(), existing_nullable=True)
