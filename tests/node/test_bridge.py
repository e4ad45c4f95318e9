"""Bundles between nodes that never connect (node/bridge.py, ``ayllu
bridge``): two islands converge; a tampered or cut bundle gives what is
intact and reports the rest; a bundle of another network is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from click.testing import CliRunner
from event_factory import note
from network_factory import Scenario, build_fractal

from node import bridge
from node.cli import main
from node.datadir import DataDir
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from storage import IngestStatus
from storage.state import NetworkStore, open_network_store


def islands() -> tuple[Scenario, list[SignedEvent], list[SignedEvent], list[SignedEvent]]:
    """A network's governance (both sides hold it) and what each island
    said since: chains of notes and a proposal each."""
    s = Scenario(root_level=3)
    fractal = build_fractal(s, [3, 3], regions=1, bases=2)
    core = list(s.events)
    sides: list[list[SignedEvent]] = []
    for base in fractal.members:
        said: list[SignedEvent] = []
        for i in range(6):
            refs = [said[-1].id] if said else []
            said.append(note(s.tick(), group=base, net=s.net, text=f"{i}", refs=refs))
        said.append(s.propose(fractal.members[base][0], base))
        sides.append(said)
    return s, core, sides[0], sides[1]


async def _ids(store: NetworkStore) -> set[bytes]:
    return {row.id for row in await store.events.query(limit=10_000)}


async def test_two_islands_converge_through_bundles(tmp_path: Path) -> None:
    s, core, west, east = islands()
    async with (
        open_network_store(tmp_path / "west.sqlite3", s.genesis) as w,
        open_network_store(tmp_path / "east.sqlite3", s.genesis) as e,
    ):
        await w.ingest([*core, *west], s.now)
        await e.ingest([*core, *east], s.now)
        # East says what it holds; west carries over only what east lacks.
        await bridge.write_ids(e, tmp_path / "east.ids", now_ms=s.now)
        have = await bridge.read_ids(tmp_path / "east.ids", s.net)
        out = await bridge.export(w, tmp_path / "to-east.bundle", now_ms=s.now, have=have)
        assert out.events == len(west)
        done = await bridge.import_bundle(e, tmp_path / "to-east.bundle", now_ms=s.now)
        assert done.counts == {"accepted": len(west)} and done.problem is None
        # And back, with everything since the first note of either side, and
        # what that refers to from before (the proposals' authors' standing).
        since = min(west[0].ts, east[0].ts)
        back = await bridge.export(e, tmp_path / "to-west.bundle", now_ms=s.now, since_ms=since)
        older = {ref for event in [*west, *east] for ref in event.refs} - {
            event.id for event in [*west, *east]
        }
        assert back.events == len(west) + len(east) + len(older) and older
        done = await bridge.import_bundle(w, tmp_path / "to-west.bundle", now_ms=s.now)
        assert done.counts == {"accepted": len(east), "duplicate": back.events - len(east)}
        assert await _ids(w) == await _ids(e)
        assert w.state.snapshot(s.now) == e.state.snapshot(s.now)


async def test_a_tampered_or_cut_bundle_gives_what_is_intact(tmp_path: Path) -> None:
    s, core, west, _ = islands()
    async with (
        open_network_store(tmp_path / "west.sqlite3", s.genesis) as w,
        open_network_store(tmp_path / "east.sqlite3", s.genesis) as e,
    ):
        await w.ingest([*core, *west], s.now)
        await e.ingest(core, s.now)
        path = tmp_path / "west.bundle"
        await bridge.export(w, path, now_ms=s.now, have=await _ids(e))
        data = path.read_bytes()
        # One byte of the third note's text changed: its signature fails,
        # and the notes that refer to it wait for it in vain.
        third = west[2].raw
        at = data.index(third) + third.index(b"2")
        (tmp_path / "tampered.bundle").write_bytes(data[:at] + b"9" + data[at + 1 :])
        done = await bridge.import_bundle(e, tmp_path / "tampered.bundle", now_ms=s.now)
        assert done.counts == {"accepted": 3, "rejected": 1, "held": 3}
        assert done.reasons == {"bad_signature": 1} and done.problem is None
        # Cut in the middle of the sixth note: five are taken, and the cut said.
        cut = data.index(west[5].raw) + 10
        (tmp_path / "cut.bundle").write_bytes(data[:cut])
        async with open_network_store(tmp_path / "fresh.sqlite3", s.genesis) as fresh:
            await fresh.ingest(core, s.now)
            done = await bridge.import_bundle(fresh, tmp_path / "cut.bundle", now_ms=s.now)
            assert done.counts == {"accepted": 5} and "cut short" in (done.problem or "")


async def test_a_stray_byte_costs_only_what_follows_it(tmp_path: Path) -> None:
    """A byte that is no item, after the third note: the notes before it
    are imported though they share a read chunk with it, the rest is not
    read, and the import says why (found by the fuzz scenario)."""
    s, core, west, _ = islands()
    async with (
        open_network_store(tmp_path / "west.sqlite3", s.genesis) as w,
        open_network_store(tmp_path / "east.sqlite3", s.genesis) as e,
    ):
        await w.ingest([*core, *west], s.now)
        await e.ingest(core, s.now)
        path = tmp_path / "west.bundle"
        await bridge.export(w, path, now_ms=s.now, have=await _ids(e))
        data = path.read_bytes()
        at = data.index(west[3].raw) - 3  # the item's head: 0x59 and two length bytes
        (tmp_path / "stray.bundle").write_bytes(data[:at] + b"\x00" + data[at:])
        done = await bridge.import_bundle(e, tmp_path / "stray.bundle", now_ms=s.now)
        assert done.counts == {"accepted": 3} and "byte string" in (done.problem or "")
        assert await e.events.has([n.id for n in west]) == {n.id for n in west[:3]}


async def test_a_bundle_of_another_network_is_refused(tmp_path: Path) -> None:
    s, core, west, _ = islands()
    other = Scenario(root_level=2)
    async with (
        open_network_store(tmp_path / "west.sqlite3", s.genesis) as w,
        open_network_store(tmp_path / "other.sqlite3", other.genesis) as o,
    ):
        await w.ingest([*core, *west], s.now)
        await bridge.export(w, tmp_path / "west.bundle", now_ms=s.now)
        with pytest.raises(Rejected) as caught:
            await bridge.import_bundle(o, tmp_path / "west.bundle", now_ms=s.now)
        assert caught.value.reason is Reason.WRONG_NETWORK
        assert await o.events.count() == 0


def test_the_bridge_commands(tmp_path: Path) -> None:
    s, core, west, east = islands()
    west_dir, east_dir = DataDir(tmp_path / "west"), DataDir(tmp_path / "east")

    async def make() -> None:
        for data_dir, events in ((west_dir, [*core, *west]), (east_dir, [*core, *east])):
            await data_dir.initialize(s.genesis)
            async with open_network_store(data_dir.store_path, s.genesis) as store:
                results = await store.ingest(events, s.now)
                assert {r.status for r in results} == {IngestStatus.ACCEPTED}

    trio.run(make)

    def ayllu(*args: str) -> dict[str, object]:
        result = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        document: dict[str, object] = json.loads(result.output)
        return document

    ids, bundle = str(tmp_path / "east.ids"), str(tmp_path / "to-east.bundle")
    assert ayllu("bridge", "have", "--data-dir", str(east_dir.root), "--out", ids)["events"] == (
        len(core) + len(east)
    )
    exported = ayllu(
        "bridge", "export", "--data-dir", str(west_dir.root), "--out", bundle, "--have", ids
    )
    assert exported["events"] == len(west)
    imported = ayllu("bridge", "import", "--data-dir", str(east_dir.root), bundle)
    assert imported["counts"] == {"accepted": len(west)} and imported["problem"] is None
    (tmp_path / "cut.bundle").write_bytes((tmp_path / "to-east.bundle").read_bytes()[:-7])
    result = CliRunner().invoke(
        main, ["bridge", "import", "--data-dir", str(east_dir.root), str(tmp_path / "cut.bundle")]
    )
    assert result.exit_code == 1 and "cut short" in result.output
