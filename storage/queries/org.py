"""Store methods for the organisation chart: who manages whom, by platform identity
(`partnerbot org import` / `org export`)."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import aliased

from storage.models import Identity, Person, Workspace
from storage.queries.base import Queries


class OrgQueries(Queries):
    async def person_at(self, platform: str, workspace: str, user_id: str) -> Person | None:
        """The person behind one platform identity (a Teams user by AAD object id or 29:… id),
        when the bot has seen them; never creates."""
        return await self._first(
            select(Person).join(Identity, Identity.person_id == Person.id)
            .join(Workspace, Workspace.id == Identity.workspace_id)
            .where(Workspace.platform == platform, Workspace.external_id == workspace,
                   or_(Identity.external_id == user_id, Identity.channel_account_id == user_id)))

    async def identity_at(self, platform: str, workspace: str, user_id: str) -> Identity | None:
        """One platform identity, as `person_at` finds it."""
        return await self._first(
            select(Identity).join(Workspace, Workspace.id == Identity.workspace_id)
            .where(Workspace.platform == platform, Workspace.external_id == workspace,
                   or_(Identity.external_id == user_id, Identity.channel_account_id == user_id)))

    async def manager_links(self) -> list[tuple[str, str, str, str, str, str, str | None]]:
        """Every manager link as (platform, workspace, user id, manager's platform, workspace,
        user id, the rep's email): one row per identity of the rep, with the manager's identity in
        the same workspace first (a plain id in the file), else their first one anywhere."""
        rep_identity, manager_identity = aliased(Identity), aliased(Identity)
        rep_ws, manager_ws = aliased(Workspace), aliased(Workspace)
        query = (
            select(rep_ws.platform, rep_ws.external_id, rep_identity.external_id,
                   manager_ws.platform, manager_ws.external_id, manager_identity.external_id, rep_identity.email,
                   rep_identity.workspace_id == manager_identity.workspace_id)
            .select_from(Person)
            .join(rep_identity, rep_identity.person_id == Person.id)
            .join(rep_ws, rep_ws.id == rep_identity.workspace_id)
            .join(manager_identity, manager_identity.person_id == Person.manager_id)
            .join(manager_ws, manager_ws.id == manager_identity.workspace_id)
            .where(Person.manager_id.is_not(None))
            .order_by(rep_ws.platform, rep_ws.external_id, rep_identity.external_id, manager_identity.id)
        )
        best: dict[tuple[str, str, str], tuple] = {}
        for *row, same_workspace in (await self._session.exec(query)).all():
            rep = tuple(row[:3])
            if rep not in best or (same_workspace and not best[rep][1]):
                best[rep] = (tuple(row), bool(same_workspace))
        return [row for row, _ in best.values()]
