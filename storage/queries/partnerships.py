"""Store methods for partnerships (P-n): their members, goals, charter and bound channels."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, or_, select

from storage.models import (
    CharterAgreement,
    CharterRule,
    Partnership,
    PartnershipChannel,
    PartnershipGoal,
    PartnershipInvite,
    PartnershipMember,
    Workspace,
)
from storage.queries.base import Queries


def bound_here(workspace_id: int, channel: str | None):
    """Partnership ids bound to this channel (a record of a partnership whose Slack channel
    and Teams channel are both bound is reachable from either). A Slack channel id is one
    channel in every workspace it is shared with (Slack Connect): bound by one company, it is
    bound for the other company's people typing in it too."""
    platform_here = select(Workspace.platform).where(Workspace.id == workspace_id).scalar_subquery()
    return select(PartnershipChannel.partnership_id).where(
        PartnershipChannel.channel == (channel or ""),
        or_(PartnershipChannel.workspace_id == workspace_id,
            and_(PartnershipChannel.platform == "slack", platform_here == "slack")))


def member_of(person_id: int):
    """Partnership ids the person is a member of."""
    return select(PartnershipMember.partnership_id).where(PartnershipMember.person_id == person_id)


class PartnershipQueries(Queries):
    async def partnership_named(self, workspace_id: int, name_key: str) -> Partnership | None:
        return await self._first(select(Partnership).where(
            Partnership.workspace_id == workspace_id, Partnership.name_key == name_key))

    async def partnership_for(self, workspace_id: int, number: int, person_id: int) -> Partnership | None:
        """P-n as the caller means it: this workspace's, else one of theirs (or one they are
        invited to) created on their other platform (a partnership lives in the workspace where
        it was created)."""
        here = await self._first(select(Partnership).where(
            Partnership.workspace_id == workspace_id, Partnership.number == number))
        if here:
            return here
        invited = select(PartnershipInvite.partnership_id).where(PartnershipInvite.person_id == person_id)
        return await self._first(
            select(Partnership)
            .where(Partnership.number == number,
                   Partnership.id.in_(member_of(person_id).union(invited)))
            .order_by(Partnership.id)
        )

    async def partnerships_by_id(self, ids: Iterable[int]) -> dict[int, Partnership]:
        return {p.id: p for p in await self._all(select(Partnership).where(Partnership.id.in_(set(ids))))}

    async def lock_partnership(self, partnership_id: int) -> Partnership | None:
        """The partnership, re-read and locked until the transaction ends (PostgreSQL: FOR NO
        KEY UPDATE, which rows referring to it do not wait for; SQLite has one writer anyway):
        opening a pulse, by the tick or by `pulse`, happens one at a time per partnership."""
        query = (select(Partnership).where(Partnership.id == partnership_id)
                 .with_for_update(key_share=True).execution_options(populate_existing=True))
        return await self._first(query)

    # --- members ------------------------------------------------------------------------------
    async def members(self, partnership_id: int) -> list[PartnershipMember]:
        return await self._all(select(PartnershipMember)
                               .where(PartnershipMember.partnership_id == partnership_id)
                               .order_by(PartnershipMember.side, PartnershipMember.role, PartnershipMember.added_at))

    async def member(self, partnership_id: int, person_id: int) -> PartnershipMember | None:
        return await self._session.get(PartnershipMember, (partnership_id, person_id))

    async def managers_of(self, partnership_ids: Iterable[int]) -> list[PartnershipMember]:
        """The managers of these partnerships, in members' order."""
        return await self._all(
            select(PartnershipMember)
            .where(PartnershipMember.partnership_id.in_(set(partnership_ids)), PartnershipMember.role == "manager")
            .order_by(PartnershipMember.partnership_id, PartnershipMember.side, PartnershipMember.added_at))

    async def managed_partnerships(self, person_id: int) -> list[Partnership]:
        return await self._all(
            select(Partnership)
            .join(PartnershipMember, PartnershipMember.partnership_id == Partnership.id)
            .where(PartnershipMember.person_id == person_id, PartnershipMember.role == "manager")
            .order_by(Partnership.id)
        )

    async def member_partnerships(self, person_id: int) -> list[Partnership]:
        """Every partnership the person is a member of (either side, manager or rep)."""
        return await self._all(
            select(Partnership).join(PartnershipMember, PartnershipMember.partnership_id == Partnership.id)
            .where(PartnershipMember.person_id == person_id).order_by(Partnership.id))

    # --- invitations (not members until they accept) -----------------------------------------
    async def invite(self, partnership_id: int, person_id: int) -> PartnershipInvite | None:
        return await self._session.get(PartnershipInvite, (partnership_id, person_id))

    async def invites(self, partnership_id: int) -> list[PartnershipInvite]:
        return await self._all(select(PartnershipInvite).where(PartnershipInvite.partnership_id == partnership_id)
                               .order_by(PartnershipInvite.side, PartnershipInvite.invited_at))

    async def remove(self, row: PartnershipInvite | PartnershipMember | PartnershipGoal) -> None:
        await self._session.delete(row)

    # --- goals, charter, channels ---------------------------------------------------------------
    async def goals(self, partnership_id: int) -> list[PartnershipGoal]:
        return await self._all(select(PartnershipGoal).where(PartnershipGoal.partnership_id == partnership_id)
                               .order_by(PartnershipGoal.id))

    async def charter_rules(self, partnership_id: int) -> list[CharterRule]:
        return await self._all(select(CharterRule).where(CharterRule.partnership_id == partnership_id)
                               .order_by(CharterRule.id))

    async def charter_agreements(self, partnership_id: int) -> list[CharterAgreement]:
        return await self._all(select(CharterAgreement).where(CharterAgreement.partnership_id == partnership_id))

    async def channels(self, partnership_id: int) -> list[PartnershipChannel]:
        return await self._all(select(PartnershipChannel)
                               .where(PartnershipChannel.partnership_id == partnership_id)
                               .order_by(PartnershipChannel.bound_at))

    async def partnerships_bound_to(self, workspace_id: int, channel: str) -> list[int]:
        return await self._all(bound_here(workspace_id, channel))
