"""The ways into a victim node by sync (faults_forgery.py): a hostile peer
that offers the forgeries in its own session (``sync_put``), and a liar
the victim syncs from that serves them (``sync_get``). The victim must
reject each with the reference's reason, store nothing of it, and blame
the peer (specs/network.md section 3).
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import trio
from event_factory import note, signing_key
from forgery_cases import Case
from forgery_tally import Tally, parsed, watching
from forgery_victims import Victim
from forgery_world import World
from libp2p.abc import IHost
from libp2p.io.msgio import VarIntLengthMsgReadWriter
from libp2p.peer.id import ID
from sync_liars import ServingLiar, planted_store

import node.sync as sync_module
from node.ingest import Settled
from protocol.errors import Reason
from protocol.event import SignedEvent
from protocol.state import Governance
from protocol.sync_frames import MAX_FRAME_SIZE, PROTOCOL_ID, Frame, FrameType, encode_frame
from storage import IngestStatus

Served = Sequence[tuple[Case, Reason | None]]


@contextlib.contextmanager
def recording_settles() -> Iterator[list[Settled]]:
    """Every ``ingest_settling`` of a sync session (node/sync.py), with its
    outcomes by reason: what the victim made of what a peer sent."""
    settled: list[Settled] = []
    names = vars(sync_module)
    original = names["ingest_settling"]

    async def recorded(*args: Any, **kwargs: Any) -> Settled:
        result: Settled = await original(*args, **kwargs)
        settled.append(result)
        return result

    names["ingest_settling"] = recorded
    try:
        yield settled
    finally:
        names["ingest_settling"] = original


def recording_blames(v: Victim) -> list[tuple[ID, str]]:
    """Hear the misbehaviour the victim's sync reports (then pass it on, to
    the node, which penalizes the peer's gossip score)."""
    blamed: list[tuple[ID, str]] = []
    original = v.node.sync._on_misbehaviour
    assert original is not None

    def record(peer: ID, reasons: str) -> None:
        blamed.append((peer, reasons))
        original(peer, reasons)

    v.node.sync._on_misbehaviour = record
    return blamed


def sync_outcomes(
    tally: Tally,
    v: Victim,
    served: Served,
    settled: Sequence[Settled],
    blamed: Sequence[tuple[ID, str]],
    liar: ID,
    where: str,
    *,
    dropped: Served = (),
) -> None:
    """What the victim's sessions made of the cases a liar ``served``:
    rejected by reason as the reference says, refused ones stored, nothing
    else stored, and the liar blamed for every reason. ``dropped`` were
    served in answer to a ``get`` but never decode, so never reach the
    ingest (specs/sync.md: the initiator drops what it did not ask for):
    they must be blamed all the same (specs/network.md section 3)."""
    got: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for one in settled:
        got.update(one.rejected)
        refused.update(one.refused)
    want: Counter[str] = Counter()
    want_refused: Counter[str] = Counter()
    for case, expected in served:
        if expected is not None:
            (want if case.status is IngestStatus.REJECTED else want_refused)[expected.value] += 1
    never: Counter[str] = Counter(r.value for _, r in dropped if r is not None)
    tally.cases += len(served) + len(dropped)
    tally.reasons.update(want + want_refused + never)
    blamed_for = {r for peer, reasons in blamed if peer == liar for r in reasons.split(",")}
    tally.blamed += sum(1 for peer, _ in blamed if peer == liar)
    if got != want or refused != want_refused:
        tally.mismatches.append(
            f"{where} {v.spec.name}: rejected {dict(got)} != {dict(want)} "
            f"or refused {dict(refused)} != {dict(want_refused)}"
        )
    if not set(want + never) <= blamed_for:
        tally.mismatches.append(
            f"{where} {v.spec.name}: blamed for {sorted(blamed_for)}, not "
            f"{sorted(set(want + never) - blamed_for)}"
        )
    stored = sum(len(one.stored) for one in settled)
    tally.accepted += max(0, stored - sum(want_refused.values()))


async def through_sync_put(v: Victim, liar: IHost, victim_host: IHost) -> Tally:
    """A hostile peer opens a session and offers every case (``put``
    frames); the victim answers each with an ack, and must reject, blame,
    and store nothing of it."""
    tally = Tally()
    v.node.sync.attach(victim_host)
    blamed = recording_blames(v)

    async def offer(raws: Sequence[bytes]) -> None:
        stream = await liar.new_stream(victim_host.get_id(), [PROTOCOL_ID])  # type: ignore[list-item]
        channel = VarIntLengthMsgReadWriter(stream, MAX_FRAME_SIZE)
        for batch in frames(raws):
            await channel.write_msg(encode_frame(Frame(FrameType.PUT, batch)))
            await channel.read_msg()  # the ack
        await channel.write_msg(encode_frame(Frame(FrameType.END)))
        # The victim blames after its ack: wait for its session to end.
        with trio.fail_after(30):
            while v.node.sync._sessions[str(liar.get_id())]:
                await trio.sleep(0.005)
        await stream.close()

    async def control() -> bool:
        await offer([v.spec.control.raw])
        return bool(await v.store.events.has([v.spec.control.id]))

    async with watching(v, tally, control):
        with recording_settles() as settled:
            await offer([c.raw for c in v.spec.cases])
        sync_outcomes(tally, v, v.spec.pairs(), settled, blamed, liar.get_id(), "sync_put")
    return tally


def frames(raws: Sequence[bytes]) -> Iterator[list[bytes]]:
    """``raws`` cut into batches that fit a frame."""
    batch: list[bytes] = []
    size = 0
    for raw in raws:
        if batch and size + len(raw) + 16 > MAX_FRAME_SIZE - 4096:
            yield batch
            batch, size = [], 0
        batch.append(raw)
        size += len(raw) + 16
    if batch:
        yield batch


async def through_sync_get(
    world: World, v: Victim, liar: IHost, victim_host: IHost, *, full: bool, rng: random.Random
) -> Tally:
    """The victim syncs from a liar that serves the cases: those that decode
    planted under their own ids (one session serves them all); bytes that
    never decode in place of carriers (valid notes the liar advertises);
    forgeries of the target's signature, which share its id, one per session
    in place of the target (every one at full size, 8 in CI). Last, the liar
    serves the target honestly: the control."""
    tally = Tally()
    blamed = recording_blames(v)
    planted: list[tuple[Case, Reason | None, SignedEvent]] = []
    same_id: list[tuple[Case, Reason | None]] = []
    undecodable: list[tuple[Case, Reason | None]] = []
    taken = {e.id for e in v.spec.prefix} | {v.spec.control.id}
    for case, expected in v.spec.pairs():
        event = parsed(case.raw)
        if event is None:
            undecodable.append((case, expected))
        elif event.id in taken:
            same_id.append((case, expected))
        else:
            taken.add(event.id)
            planted.append((case, expected, event))
    if not full and len(same_id) > 8:
        same_id = rng.sample(same_id, 8)
    carriers = [
        note(
            v.now_ms - 1000,
            key=signing_key("carrier"),
            group=world.bases[0],
            net=world.net,
            text=f"carrier {i}",
        )
        for i in range(len(undecodable))
    ]

    async def session(
        plant: Sequence[SignedEvent], swap: dict[bytes, bytes], *, honest: bool = False
    ) -> set[bytes]:
        """One session with a liar holding the prefix and ``plant``, and the
        target only to swap it, or to serve it ``honest``-ly."""
        control = [v.spec.control] if honest or v.spec.control.id in swap else []
        store = planted_store(Governance(world.genesis), [*v.spec.prefix, *control, *plant])
        server = ServingLiar(store, swap)
        server.attach(liar)
        await v.node.sync.sync_with(victim_host, liar.get_id())
        return server.served

    async def control() -> bool:
        await session([], {}, honest=True)
        return bool(await v.store.events.has([v.spec.control.id]))

    served: list[tuple[Case, Reason | None]] = []
    dropped: list[tuple[Case, Reason | None]] = []
    async with watching(v, tally, control):
        with recording_settles() as settled:
            swap = {v.spec.control.id: same_id[0][0].raw} if same_id else {}
            got = await session([e for _, _, e in planted], swap)
            served += [(c, r) for c, r, _ in planted if c.raw in got]
            served += [pair for pair in same_id[:1] if pair[0].raw in got]
            for pair in same_id[1:]:
                got = await session([], {v.spec.control.id: pair[0].raw})
                served += [pair] if pair[0].raw in got else []
            # Undecodable bytes in sessions of their own: a get answered with
            # nothing that decodes ends the session's asking, for the ids
            # not asked yet too (node/sync.py); serve what is left again.
            missing = undecodable
            for _ in range(len(undecodable) // 64 + 2):
                if not missing:
                    break
                left = carriers[: len(missing)]
                swap = {c.id: case.raw for c, (case, _) in zip(left, missing, strict=True)}
                got = await session(left, swap)
                dropped += [pair for pair in missing if pair[0].raw in got]
                missing = [pair for pair in missing if pair[0].raw not in got]
            unserved = len(planted) + len(same_id) + len(undecodable)
            unserved -= len(served) + len(dropped)
            if unserved:
                tally.mismatches.append(f"sync_get {v.spec.name}: {unserved} cases never served")
        sync_outcomes(tally, v, served, settled, blamed, liar.get_id(), "sync_get", dropped=dropped)
    return tally
