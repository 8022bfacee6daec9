"""private calendar subscription links of meeting series and peer syncs

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 22:50:00

Why: community-of-practice meetings exist only as bot posts, so people miss them (issue 24).
`meeting calendar M-n` and `sync calendar P-n` answer a private .ics link; like an export link,
only the token's SHA-256 is stored, but it lives until revoked.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.types import UTCDateTime

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'calendar_feed',
        sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('partnership_id', sa.Integer(), nullable=False),
        sa.Column('meeting_series_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('revoked_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id']),
        sa.ForeignKeyConstraint(['person_id'], ['person.id']),
        sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id']),
        sa.ForeignKeyConstraint(['meeting_series_id'], ['meeting_series.id']),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_calendar_feed_person_id', 'calendar_feed', ['person_id'])


def downgrade() -> None:
    op.drop_index('ix_calendar_feed_person_id', table_name='calendar_feed')
    op.drop_table('calendar_feed')
