"""what the CRM's own setup means for admins (credit splits going as notes)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 01:00:00

Why: a credit split is written as the CRM's own splits where the org has them turned on, and as a
note on the deal where it does not; `crm status` tells admins which, and how to turn them on.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('crm_cursor') as batch_op:
        batch_op.add_column(sa.Column('setup_notice', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crm_cursor') as batch_op:
        batch_op.drop_column('setup_notice')
