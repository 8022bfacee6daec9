"""Queries of issue 7 (export); a Store mixin."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class ExportQueries:
    session: AsyncSession
