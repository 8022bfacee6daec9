"""Queries of issue 7 (win); a Store mixin."""
from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession


class WinQueries:
    session: AsyncSession
