"""Store methods for partnerships and their peer syncs (mixed into storage.store.Store)."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    CharterAgreement,
    CharterRule,
    Commitment,
    Partnership,
    PartnershipChannel,
    PartnershipGoal,
    PartnershipMember,
    PeerSync,
    SyncAnswer,
    SyncSeries,
)


class PartnershipQueries:
    session: AsyncSession

    async def _first(self, query):
        return (await self.session.exec(query)).scalars().first()

    async def _all(self, query) -> list:
        return list((await self.session.exec(query)).scalars().all())

    # --- partnerships ---------------------------------------------------------------------
    async def partnership_named(self, workspace_id: int, name_key: str) -> Partnership | None:
        return await self._first(select(Partnership).where(
            Partnership.workspace_id == workspace_id, Partnership.name_key == name_key))

    async def partnership_for(self, workspace_id: int, number: int, person_id: int) -> Partnership | None:
        """P-n as the caller means it: this workspace's, else one of theirs created on their
        other platform (a partnership lives in the workspace where it was created)."""
        here = await self._first(select(Partnership).where(
            Partnership.workspace_id == workspace_id, Partnership.number == number))
        if here:
            return here
        return await self._first(
            select(Partnership)
            .join(PartnershipMember, PartnershipMember.partnership_id == Partnership.id)
            .where(Partnership.number == number, PartnershipMember.person_id == person_id)
            .order_by(Partnership.id)
        )

    async def members(self, partnership_id: int) -> list[PartnershipMember]:
        return await self._all(select(PartnershipMember)
                               .where(PartnershipMember.partnership_id == partnership_id)
                               .order_by(PartnershipMember.side, PartnershipMember.role, PartnershipMember.added_at))

    async def member(self, partnership_id: int, person_id: int) -> PartnershipMember | None:
        return await self.session.get(PartnershipMember, (partnership_id, person_id))

    async def managed_partnerships(self, person_id: int) -> list[Partnership]:
        return await self._all(
            select(Partnership)
            .join(PartnershipMember, PartnershipMember.partnership_id == Partnership.id)
            .where(PartnershipMember.person_id == person_id, PartnershipMember.role == "manager")
            .order_by(Partnership.id)
        )

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

    async def series(self, partnership_id: int, person_id: int) -> SyncSeries | None:
        return await self._first(select(SyncSeries).where(
            SyncSeries.partnership_id == partnership_id, SyncSeries.person_id == person_id))

    async def series_of_person(self, person_id: int) -> list[SyncSeries]:
        return await self._all(select(SyncSeries).where(SyncSeries.person_id == person_id))

    # --- peer syncs -----------------------------------------------------------------------
    async def peer_sync_for(self, workspace_id: int, number: int, person_id: int) -> PeerSync | None:
        """S-n in this workspace, else one the caller takes part in on their other platform."""
        here = await self._first(select(PeerSync).where(
            PeerSync.workspace_id == workspace_id, PeerSync.number == number))
        if here:
            return here
        return await self._first(
            select(PeerSync).join(SyncAnswer, SyncAnswer.peer_sync_id == PeerSync.id)
            .where(PeerSync.number == number, SyncAnswer.person_id == person_id).order_by(PeerSync.id)
        )

    async def peer_sync_of_week(self, partnership_id: int, week: str) -> PeerSync | None:
        return await self._first(select(PeerSync).where(
            PeerSync.partnership_id == partnership_id, PeerSync.week == week))

    async def previous_sync(self, sync: PeerSync) -> PeerSync | None:
        return await self._first(
            select(PeerSync).where(PeerSync.partnership_id == sync.partnership_id, PeerSync.week < sync.week)
            .order_by(PeerSync.week.desc())
        )

    async def sync_answers(self, peer_sync_id: int) -> list[SyncAnswer]:
        return await self._all(select(SyncAnswer).where(SyncAnswer.peer_sync_id == peer_sync_id)
                               .order_by(SyncAnswer.side))

    async def sync_answer(self, peer_sync_id: int, person_id: int) -> SyncAnswer | None:
        return await self.session.get(SyncAnswer, (peer_sync_id, person_id))

    async def pledges(self, peer_sync_id: int) -> list[Commitment]:
        return await self._all(select(Commitment).where(Commitment.peer_sync_id == peer_sync_id)
                               .order_by(Commitment.number))
