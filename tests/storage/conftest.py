"""The ``store`` fixture: every conformance test runs on both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import EventStore, MemoryEventStore, open_sqlite_store


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    if request.param == "memory":
        memory = MemoryEventStore()
        yield memory
        await memory.close()
    else:
        async with open_sqlite_store(tmp_path / "events.db") as sqlite_store:
            yield sqlite_store
