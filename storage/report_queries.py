"""Queries of issue 7 (report); a Store mixin."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class ReportQueries:
    session: AsyncSession
