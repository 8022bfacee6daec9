"""partnerships and memberships are accepted, not imposed

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 11:30:00

Why: `partnership new … with @peer` made the peer a manager without asking, and `partnership
P-n add @rep` changed the rep's manager without asking. Now a partnership is pending until the
peer manager accepts it, and an invited person is not a member until they accept
(partnership_invite). What exists was set up under the old rule and stays in force: existing
partnerships are active, accepted when they were created; manager links are untouched.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='active'))
        batch_op.add_column(sa.Column('accepted_at', storage.types.UTCDateTime(), nullable=True))
    op.execute("UPDATE partnership SET accepted_at = created_at")
    op.create_table('partnership_invite',
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('side', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', storage.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['person.id'], ),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnership.id'], ),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ),
    sa.PrimaryKeyConstraint('partnership_id', 'person_id')
    )
    with op.batch_alter_table('partnership_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partnership_invite_person_id'), ['person_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('partnership_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partnership_invite_person_id'))
    op.drop_table('partnership_invite')
    with op.batch_alter_table('partnership', schema=None) as batch_op:
        batch_op.drop_column('accepted_at')
        batch_op.drop_column('status')
