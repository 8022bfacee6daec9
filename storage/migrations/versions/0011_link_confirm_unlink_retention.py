"""link asks the issuer to confirm, unlink splits again, wrong codes are counted, old rows pruned

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 12:00:00

Why: `link <code>` merged whoever typed the code, at once and for good. Now it is a request
(link_request) the code's issuer confirms; every merge is recorded (person_link) so `unlink`
can split it again; wrong codes are counted (link_attempt: five an hour per person). The tick
prunes processed_delivery by age, hence its index on `at`. Links made before this revision
have no record and cannot be unlinked.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('link_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('requester_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('platform', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['requester_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,  # ids never reused: a stale button must not answer a newer request
    )
    with op.batch_alter_table('link_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_link_request_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_request_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_request_expires_at'), ['expires_at'], unique=False)
    op.create_table('link_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_link_attempt_person_at', ['person_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_attempt_at'), ['at'], unique=False)
    op.create_table('person_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('keeper_id', sa.Integer(), nullable=False),
    sa.Column('linked_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('absorbed_id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('platform_timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('manager_id', sa.Integer(), nullable=True),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('keeper_timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('keeper_platform_timezone', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.Column('deleted', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['keeper_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspace.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('person_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_link_keeper_id'), ['keeper_id'], unique=False)
    with op.batch_alter_table('processed_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_delivery_at'), ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('processed_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_delivery_at'))
    with op.batch_alter_table('person_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_link_keeper_id'))
    op.drop_table('person_link')
    with op.batch_alter_table('link_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_attempt_at'))
        batch_op.drop_index('ix_link_attempt_person_at')
    op.drop_table('link_attempt')
    with op.batch_alter_table('link_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_request_expires_at'))
        batch_op.drop_index(batch_op.f('ix_link_request_requester_id'))
        batch_op.drop_index(batch_op.f('ix_link_request_issuer_id'))
    op.drop_table('link_request')
