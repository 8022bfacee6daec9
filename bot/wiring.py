"""Builds one Partnerbot from settings: database, dispatcher, outbox sender, platform adapters.

No globals: tests build as many bots as they like, each with its own clock.
"""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.outbox import OutboxSender
from handlers import default_registry
from handlers.kernel.delivery import Address, Deliverer
from handlers.kernel.dispatch import Clock, Dispatcher, utc_now
from handlers.kernel.model import Reply
from handlers.kernel.registry import Registry
from handlers.kernel.runner import Runner
from storage.db import Database
from storage.migrate import upgrade

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from adapters.teams.app import TeamsAdapter
    from adapters.web.app import Backend

log = logging.getLogger(__name__)


class Partnerbot:
    def __init__(self, settings: Settings, clock: Clock = utc_now, registry: Registry | None = None):
        self.settings = settings
        self.clock = clock
        self.db = Database(settings.database_url)
        registry = registry or default_registry()
        self.dispatcher = Dispatcher(self.db, settings, registry, clock, on_outbox=lambda: self.sender.wake())
        # each platform's adapter is built when first used: `serve` builds both at start (its
        # routes), a `tick` only those it has messages for
        deliverers = [BuiltOnFirstUse("teams", lambda: self.teams.deliverer)]
        if settings.slack_enabled:
            deliverers.insert(0, BuiltOnFirstUse("slack", lambda: self.slack.deliverer))
        if settings.crm_provider is not None:  # leads, handoffs and wins written to the CRM (handlers/crm)
            deliverers.append(BuiltOnFirstUse(settings.crm_provider, lambda: self.crm))
        self.runner = Runner(self.db, settings, registry)
        outbox = settings.outbox
        self.sender = OutboxSender(self.db, deliverers, clock, max_attempts=outbox.max_attempts,
                                   poll_seconds=outbox.poll_seconds, lease_seconds=outbox.lease_seconds)

    @cached_property
    def crm(self):
        """The CRM's adapter (HubSpot or Salesforce): it writes the CRM's outbox rows and reads back
        what changed there."""
        from bot.crm_links import DatabaseRecordLinks

        settings = self.settings
        links = DatabaseRecordLinks(self.db, self.clock, settings.crm_provider)
        if settings.crm_provider == "salesforce":
            from adapters.crm.salesforce import SalesforceAccess, SalesforceDeliverer

            access = SalesforceAccess(settings.salesforce_instance_url, settings.salesforce_access_token,
                                      settings.salesforce_username, settings.salesforce_password,
                                      settings.salesforce_security_token, settings.salesforce_login_url)
            return SalesforceDeliverer(access, links, settings.crm_stages)
        from adapters.crm.hubspot import HubSpotDeliverer

        return HubSpotDeliverer(settings.hubspot_access_token, settings.hubspot_api_url, links, settings.crm_stages)

    @cached_property
    def slack(self) -> SlackAdapter | None:
        """The Slack app, when Slack's credentials are set: one workspace's bot token, or the OAuth
        app's client id and secret (any number of workspaces, installed through /slack/install)."""
        if not self.settings.slack_enabled:
            return None
        from adapters.slack.app import SlackAdapter
        from adapters.slack.oauth import OAuthApp
        from storage.installations import SlackInstallations

        settings = self.settings
        oauth = None
        if settings.slack_multi_workspace:  # each workspace's token from its installation, kept in the database
            oauth = OAuthApp(client_id=settings.slack_client_id, client_secret=settings.slack_client_secret,
                             public_url=settings.public_url, records=SlackInstallations(self.db, self.clock))
        return SlackAdapter(
            signing_secret=settings.slack_signing_secret, token=settings.slack_bot_token,
            api_url=settings.slack_api_url, dispatch=self.dispatcher.dispatch,
            channel_seconds=settings.outbox.slack_channel_seconds, oauth=oauth,
        )

    @cached_property
    def teams(self) -> TeamsAdapter:
        """The Teams bot: always there for the outbox; `serve` routes /api/messages to it only
        with an app id or teams.unauthenticated (the Bot Framework Emulator, tests)."""
        from adapters.teams.app import TeamsAdapter

        settings = self.settings
        return TeamsAdapter(
            app_id=settings.microsoft_app_id, password=settings.microsoft_app_password,
            tenant_id=settings.microsoft_app_tenant_id, app_type=settings.microsoft_app_type,
            dispatch=self.dispatcher.dispatch, remember_contact=self.dispatcher.remember_contact,
            service_url_hosts=settings.teams.service_url_hosts, tenants=settings.teams.tenants,
            unauthenticated=settings.teams.unauthenticated,
        )

    @cached_property
    def overview_snapshots(self):
        """The dashboard overview's snapshots and their refreshes under way (handlers/reports/overview_snapshot)."""
        from handlers.reports.overview_snapshot import OverviewSnapshots

        return OverviewSnapshots(self.db.reading, self.db.transaction, self.settings, self.clock)

    @cached_property
    def dashboard(self) -> Backend:
        """What the web dashboard (adapters/web) asks of the rest: each call one transaction, on the
        bot's clock; the pages only read, in read-only transactions that never hold a command's
        write up (Database.reading). The pages are scoped by the session's DashboardView
        (handlers/reports/dashboard)."""
        from adapters.web.app import Backend
        from handlers.dashboard import service
        from handlers.reports import dashboard as pages

        db, clock, settings, snapshots = self.db, self.clock, self.settings, self.overview_snapshots

        def in_transaction(work):
            async def run(*args):
                async with db.transaction() as store:
                    return await work(store, *args)
            return run

        def reading(read):
            async def run(*args):
                async with db.reading() as store:
                    return await read(store, *args)
            return run

        async def overview(view, refresh):
            page, refreshing = await snapshots.page(view, refresh)
            return pages.overview_shown(page, refreshing, settings)

        async def credit_csv(view, start, end):
            async with db.reading() as store:
                report = await pages.credit(store, view, start, end, clock(), settings)
            return (report.start, report.end, pages.credit_csv(report)) if report is not None else None

        return Backend(
            sign_in=in_transaction(lambda store, token: service.sign_in(store, token, clock())),
            view_of=reading(lambda store, session: service.session_view(store, session, clock())),
            end_session=in_transaction(lambda store, session: service.end_session(store, session, clock())),
            overview=overview,
            partnership_page=reading(lambda store, view, pid: pages.partnership(store, view, pid, clock(), settings)),
            person_page=reading(lambda store, view, pid: pages.person(store, view, pid, clock(), settings)),
            leaders=reading(lambda store, view: pages.leaders_page(store, view, clock(), settings)),
            credit=reading(lambda store, view, start, end: pages.credit(store, view, start, end, clock(), settings)),
            credit_csv=credit_csv,
        )

    async def upgrade(self) -> None:
        await upgrade(self.db)

    async def run_cadence(self) -> Counter:
        """The scheduled work due now, written to the outbox; `serve`'s sender sends it."""
        done = await self.runner.tick(self.clock())
        done.update(await self.read_back_crm())
        if done:
            self.sender.wake()
        return done

    async def tick(self) -> tuple[Counter, int]:
        """`partnerbot tick`: the scheduled work due now, then send what is owed; returns
        what was done per kind and the number of messages sent."""
        done = await self.runner.tick(self.clock())
        done.update(await self.read_back_crm())
        return done, await self.sender.drain()

    async def read_back_crm(self) -> Counter:
        """What changed in the CRM since the last read, applied here (handlers/crm/reconcile.py).
        The CRM unreachable is no failure of the tick: the next one reads from the same point."""
        crm = self.settings.crm_provider
        if crm is None:
            return Counter()
        from handlers.crm import reconcile

        async with self.db.reading() as store:
            cursor = await store.crm_cursor(crm)
        try:
            changes = await self.crm.changes_since(cursor.read_until if cursor else None)
        except Exception:
            log.warning("reading %s's changes failed; the next tick tries again", crm, exc_info=True)
            return Counter()
        if not changes:
            return Counter()
        async with self.db.transaction() as store:
            applied = await reconcile.apply(store, changes, self.clock(), self.settings, crm)
            await store.set_crm_read_until(crm, max(c.modified_at for c in changes), self.clock())
        return Counter({"changes read back from the CRM": applied}) if applied else Counter()

    async def close(self) -> None:
        if "overview_snapshots" in self.__dict__:  # built: refreshes may be under way
            await self.overview_snapshots.close()
        await self.db.dispose()


class BuiltOnFirstUse:
    """A platform's deliverer that builds the real one, and so imports that platform's SDK, when
    its first message goes out: a cron `tick` with nothing for Teams never loads botbuilder
    (about a third of the process's start)."""

    def __init__(self, platform: str, build: Callable[[], Deliverer]):
        self.platform = platform
        self._build = build
        self._real: Deliverer | None = None

    def ready_at(self, address: Address) -> float:
        paced = getattr(self._real, "ready_at", None)
        return paced(address) if paced else 0.0  # not built: nothing sent through it to pace

    async def deliver(self, address: Address, reply: Reply) -> None:
        if self._real is None:
            self._real = self._build()
        await self._real.deliver(address, reply)

    async def deliver_payload(self, address: Address, payload: dict) -> None:
        if self._real is None:
            self._real = self._build()
        await self._real.deliver_payload(address, payload)
