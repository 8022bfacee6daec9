"""slack_installation and slack_oauth_state: "Add to Slack" for any number of workspaces

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 17:00:00

Why: with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, `serve` installs into any workspace through
Slack's OAuth v2 flow (/slack/install, /slack/oauth_redirect). Each installation's bot token is
kept here, one row per workspace (or Enterprise Grid org, for an org-wide install), and each
install link's state until its one redirect or its expiry; slack_org_team says which org a
workspace seen in a request belongs to, so that what is owed to it finds an org-wide
installation. Single-workspace deployments (SLACK_BOT_TOKEN) leave the three tables empty.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def _text(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'slack_installation',
        sa.Column('id', sa.Integer(), nullable=False),
        _text('app_id'),
        _text('enterprise_id', nullable=False),
        _text('enterprise_name'),
        _text('enterprise_url'),
        _text('team_id', nullable=False),
        _text('team_name'),
        sa.Column('is_enterprise_install', sa.Boolean(), nullable=False),
        _text('token_type'),
        _text('bot_token'),
        _text('bot_id'),
        _text('bot_user_id'),
        _text('bot_scopes'),
        _text('bot_refresh_token'),
        sa.Column('bot_token_expires_at', storage.types.UTCDateTime(), nullable=True),
        _text('user_id', nullable=False),
        _text('user_token'),
        _text('user_scopes'),
        _text('user_refresh_token'),
        sa.Column('user_token_expires_at', storage.types.UTCDateTime(), nullable=True),
        sa.Column('installed_at', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('enterprise_id', 'team_id', name='uq_slack_installation_workspace'),
    )
    op.create_index(op.f('ix_slack_installation_team_id'), 'slack_installation', ['team_id'], unique=False)
    op.create_table(
        'slack_oauth_state',
        _text('state', nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('state'),
    )
    op.create_index(op.f('ix_slack_oauth_state_expires_at'), 'slack_oauth_state', ['expires_at'], unique=False)
    op.create_table(
        'slack_org_team',
        _text('team_id', nullable=False),
        _text('enterprise_id', nullable=False),
        sa.PrimaryKeyConstraint('team_id'),
    )


def downgrade() -> None:
    op.drop_table('slack_org_team')
    op.drop_index(op.f('ix_slack_oauth_state_expires_at'), table_name='slack_oauth_state')
    op.drop_table('slack_oauth_state')
    op.drop_index(op.f('ix_slack_installation_team_id'), table_name='slack_installation')
    op.drop_table('slack_installation')
