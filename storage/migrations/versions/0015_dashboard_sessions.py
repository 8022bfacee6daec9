"""dashboard_sign_in and dashboard_session: signing in to the web dashboard from the chat

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 18:15:00

Why: `dashboard` answers a one-time sign-in link (10 minutes, once) that opens a browser
session of 8 hours under /app/. Only the SHA-256 of each link's and each session cookie's token
is kept, so the database alone signs nobody in; `dashboard signout` and /app/logout end a
session by setting ended_at.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def _text(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        'dashboard_sign_in',
        _text('token_hash', nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('workspace_id', sa.Integer(), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('used_at', storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index(op.f('ix_dashboard_sign_in_person_id'), 'dashboard_sign_in', ['person_id'], unique=False)
    op.create_table(
        'dashboard_session',
        _text('token_hash', nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
        sa.Column('ended_at', storage.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index(op.f('ix_dashboard_session_person_id'), 'dashboard_session', ['person_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_dashboard_session_person_id'), table_name='dashboard_session')
    op.drop_table('dashboard_session')
    op.drop_index(op.f('ix_dashboard_sign_in_person_id'), table_name='dashboard_sign_in')
    op.drop_table('dashboard_sign_in')
