"""Who is below whom and what touches a workspace: the sets a dashboard's scope is made of
(handlers/partnerships/policy.dashboard_view decides what each role sees), and what the leaders
page reads of the managers in it (a Store mixin)."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, or_, select

from storage.models import Commitment, Meeting, Partnership, PartnershipMember, PeerSync, Person, SyncAnswer
from storage.queries.base import Queries
from storage.queries.reports import commitment_window

MAX_DEPTH = 50  # an org chart is acyclic (people/service refuses cycles); this only bounds a bad row


class ScopeQueries(Queries):
    async def people_below(self, manager_id: int) -> set[int]:
        """Everyone who reports to `manager_id`, directly or through others (one query per level)."""
        below: set[int] = set()
        level = {manager_id}
        for _ in range(MAX_DEPTH):
            found = set(await self._all(select(Person.id).where(Person.manager_id.in_(level))))
            level = found - below - {manager_id}
            if not level:
                break
            below |= level
        return below

    async def workspace_people(self, workspace_id: int) -> set[int]:
        return set(await self._all(select(Person.id).where(Person.workspace_id == workspace_id)))

    async def partnerships_of_people(self, person_ids: Iterable[int], role: str | None = None) -> set[int]:
        """The partnerships any of these people is a member of (with `role`, when given)."""
        query = select(PartnershipMember.partnership_id).where(PartnershipMember.person_id.in_(set(person_ids)))
        if role:
            query = query.where(PartnershipMember.role == role)
        return set(await self._all(query.distinct()))

    async def partnership_member_ids(self, partnership_ids: Iterable[int]) -> set[int]:
        query = select(PartnershipMember.person_id).where(PartnershipMember.partnership_id.in_(set(partnership_ids)))
        return set(await self._all(query.distinct()))

    async def members_of(self, partnership_ids: Iterable[int]) -> dict[int, list[PartnershipMember]]:
        """The members of each of these partnerships, by partnership id."""
        found: dict[int, list[PartnershipMember]] = {}
        query = (select(PartnershipMember).where(PartnershipMember.partnership_id.in_(set(partnership_ids)))
                 .order_by(PartnershipMember.partnership_id, PartnershipMember.side, PartnershipMember.added_at))
        for member in await self._all(query):
            found.setdefault(member.partnership_id, []).append(member)
        return found

    async def partnerships_touching(self, workspace_id: int) -> set[int]:
        """Partnerships created in the workspace, or shared with it: one of its people is a member
        (a partnership between two companies' workspaces, linked through Slack Connect)."""
        members_here = (select(PartnershipMember.partnership_id)
                        .join(Person, Person.id == PartnershipMember.person_id)
                        .where(Person.workspace_id == workspace_id))
        return set(await self._all(select(Partnership.id).where(
            or_(Partnership.workspace_id == workspace_id, Partnership.id.in_(members_here)))))

    # --- the leaders page: managers and what they did themselves --------------------------------
    async def direct_report_counts(self, person_ids: Iterable[int]) -> dict[int, int]:
        """Of these people, those who have reports: how many report to them directly."""
        query = (select(Person.manager_id, func.count()).where(Person.manager_id.in_(set(person_ids)))
                 .group_by(Person.manager_id))
        return {manager: count for manager, count in (await self._session.exec(query)).all()}

    async def managed_partnership_refs(self, person_ids: Iterable[int]) -> dict[int, list[str]]:
        """Of these people, the managers of partnerships: the refs of those they manage."""
        query = (select(PartnershipMember.person_id, Partnership.number)
                 .join(Partnership, Partnership.id == PartnershipMember.partnership_id)
                 .where(PartnershipMember.person_id.in_(set(person_ids)), PartnershipMember.role == "manager")
                 .order_by(Partnership.number))
        found: dict[int, list[str]] = {}
        for person_id, number in (await self._session.exec(query)).all():
            found.setdefault(person_id, []).append(f"P-{number}")
        return found

    async def report_commitments_of_owners(self, owner_ids: Iterable[int], since: datetime) -> list[Commitment]:
        return await self._read_only(Commitment, Commitment.owner_id.in_(set(owner_ids)), commitment_window(since))

    async def sync_answers_of(self, person_ids: Iterable[int],
                              since: datetime) -> tuple[list[PeerSync], list[SyncAnswer]]:
        """These people's parts in the peer syncs opened since `since`, and those syncs."""
        query = (select(SyncAnswer, PeerSync).join(PeerSync, PeerSync.id == SyncAnswer.peer_sync_id)
                 .where(SyncAnswer.person_id.in_(set(person_ids)), PeerSync.opened_at >= since))
        pairs = (await self._session.exec(query)).all()
        return list({s.id: s for _, s in pairs}.values()), [a for a, _ in pairs]

    async def meetings_organised_by(self, person_ids: Iterable[int], since: datetime,
                                    now: datetime) -> tuple[list[Meeting], list[Commitment]]:
        """Meetings these people organised that ended in the window, and their action items."""
        meetings = await self._read_only(Meeting, Meeting.organiser_id.in_(set(person_ids)), Meeting.ends_at >= since,
                                         Meeting.ends_at <= now)
        if not meetings:
            return [], []
        return meetings, await self._read_only(Commitment, Commitment.meeting_id.in_([m.id for m in meetings]))

    async def managers_of_people(self, person_ids: Iterable[int]) -> dict[int, int]:
        """rep -> manager of these people (those who have one)."""
        query = select(Person.id, Person.manager_id).where(Person.id.in_(set(person_ids)),
                                                           Person.manager_id.is_not(None))
        return dict((await self._session.exec(query)).all())

    async def direct_reports(self, manager_id: int) -> list[Person]:
        return await self._all(select(Person).where(Person.manager_id == manager_id)
                               .order_by(Person.display_name, Person.id))
