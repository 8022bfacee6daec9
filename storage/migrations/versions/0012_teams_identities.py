"""a Teams identity has both ids (AAD object id and 29:… user id) and an email; twins are folded

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 14:30:00

Why: Teams sends a mention as {"id": "29:…", "name": …} with no AAD object id, while a person
who writes was keyed by `from.aadObjectId`. So `handoff @Megan …` made one Megan and her first
message a second: what was queued for the first never reached her. An identity now keeps both
ids (channel_account_id is the 29:… one) and is found by either.

Twins that exist already are folded here: an identity keyed by AAD object id whose stored
conversation reference says its 29:… id, and another identity of the same tenant keyed by that
29:… id. The person met by mention is folded into the one who wrote: their records, log and
queued messages become the writer's, and an activity_log row "person.merged" says who was
folded into whom. Twins only the roster could tell apart are folded when it tells (at runtime).
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types
from storage.fold import fold_statements, keeper_fields, person_columns

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel_account_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('email', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    bind = op.get_bind()
    schema = sa.MetaData()
    schema.reflect(bind)  # the tables as they are at this revision, not as the models are now
    _fold_twins(bind, schema)
    _backfill_channel_account_ids(bind, schema)
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_identity_channel_account', ['workspace_id', 'channel_account_id'])


def downgrade() -> None:
    with op.batch_alter_table('identity', schema=None) as batch_op:
        batch_op.drop_constraint('uq_identity_channel_account', type_='unique')
        batch_op.drop_column('email')
        batch_op.drop_column('channel_account_id')


def _contact_user(contact) -> dict:
    """The `user` of a stored Teams conversation reference ({} when there is none)."""
    if isinstance(contact, str):
        contact = json.loads(contact)
    user = contact.get("user") if isinstance(contact, dict) else None
    return user if isinstance(user, dict) else {}


def _teams_identities(bind, identity, workspace) -> list:
    teams = sa.select(workspace.c.id).where(workspace.c.platform == "teams")
    return bind.execute(sa.select(identity).where(identity.c.workspace_id.in_(teams))
                        .order_by(identity.c.id)).mappings().all()


def _fold_twins(bind, schema: sa.MetaData) -> None:
    identity, person, workspace = (schema.tables[name] for name in ("identity", "person", "workspace"))
    log = sa.table("activity_log", sa.column("workspace_id"), sa.column("at", storage.types.UTCDateTime()),
                   sa.column("person_id"), sa.column("platform"), sa.column("action"), sa.column("record"),
                   sa.column("before", sa.JSON()), sa.column("after", sa.JSON()))
    outbox = sa.table("outbox", sa.column("recipient_person_id"), sa.column("platform"),
                      sa.column("status"), sa.column("next_attempt_at", storage.types.UTCDateTime()))
    now = datetime.now(timezone.utc)
    by_id = {(row["workspace_id"], row["external_id"]): row for row in _teams_identities(bind, identity, workspace)}
    for (workspace_id, external_id), keeper in list(by_id.items()):
        user = _contact_user(keeper["contact"]) if keeper["contact"] is not None else {}
        teams_user_id = user.get("id")
        if user.get("aadObjectId") != external_id or not teams_user_id or teams_user_id == external_id:
            continue
        twin = by_id.get((workspace_id, teams_user_id))
        if twin is None or twin["person_id"] == keeper["person_id"]:
            continue
        into = bind.execute(sa.select(person).where(person.c.id == keeper["person_id"])).mappings().one()
        absorbed = bind.execute(sa.select(person).where(person.c.id == twin["person_id"])).mappings().one()
        fields = keeper_fields(dict(into), dict(absorbed), {external_id, teams_user_id})
        if fields:
            bind.execute(person.update().where(person.c.id == into["id"]).values(**fields))
        bind.execute(identity.delete().where(identity.c.id == twin["id"]))
        for statement in fold_statements(person_columns(schema), person, absorbed["id"], into["id"]):
            bind.execute(statement)
        bind.execute(outbox.update().where(outbox.c.recipient_person_id == into["id"], outbox.c.platform == "teams",
                                           outbox.c.status == "pending").values(next_attempt_at=now))
        bind.execute(log.insert().values(
            workspace_id=workspace_id, at=now, person_id=into["id"], platform="teams", action="person.merged",
            record=f"person:{into['id']}", after={"person_id": into["id"], "external_id": external_id},
            before={"person_id": absorbed["id"], "display_name": absorbed["display_name"],
                    "external_id": teams_user_id}))
        del by_id[(workspace_id, teams_user_id)]


def _backfill_channel_account_ids(bind, schema: sa.MetaData) -> None:
    """Each Teams identity's 29:… id: from its conversation reference, or its own id when it was
    keyed by it (met by mention). One per tenant: the constraint added next says so."""
    identity, workspace = schema.tables["identity"], schema.tables["workspace"]
    taken: set[tuple[int, str]] = set()
    for row in _teams_identities(bind, identity, workspace):
        user = _contact_user(row["contact"]) if row["contact"] is not None else {}
        if user.get("aadObjectId") == row["external_id"] and user.get("id"):
            teams_user_id = user["id"]
        elif row["external_id"].startswith("29:"):
            teams_user_id = row["external_id"]
        else:
            continue
        if (row["workspace_id"], teams_user_id) in taken:
            continue
        taken.add((row["workspace_id"], teams_user_id))
        bind.execute(identity.update().where(identity.c.id == row["id"]).values(channel_account_id=teams_user_id))
