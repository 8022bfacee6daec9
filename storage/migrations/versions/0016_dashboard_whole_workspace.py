"""dashboard sign-in links and sessions say whether they see the whole workspace

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 19:45:00

Why: the dashboard scopes every page by role (issue 23). Whether someone is an admin is known
only on the platform, when they ask for a link (Slack's users.info owner/admin flag, the console,
setting `admins`), and setting `executives` names the others; the link records it, and the
session it opens carries it for its 8 hours.
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('dashboard_sign_in', 'dashboard_session'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('whole_workspace', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    for table in ('dashboard_sign_in', 'dashboard_session'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('whole_workspace')
