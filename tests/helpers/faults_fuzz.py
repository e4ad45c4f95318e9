"""Fuzzing (issue 9): hypothesis on every decoder of untrusted bytes, the
validator, the store's ingest and the sync state machine, seeded with the
spec vectors.

Theory of operation
-------------------
Each *target* is a hypothesis test run through hypothesis's own API with
``settings(max_examples=...)`` and a counter in its body, so the figures
are cases actually run. The *corpus* is every event, sync message, frame,
bundle and genesis document of specs/vectors/*.json; the strategies mutate
corpus entries (bit flips, byte edits, splices from other entries,
truncation), reshape them at the CBOR level (a node replaced by a value
of any CBOR type, floats and tags included, re-encoded canonically or
not), or draw bytes from nothing. Events of the forgery world
(forgery_world.py, where every key is known) are also reshaped and
*re-signed*, so that a validly signed event with an arbitrary body gets
past the signature into the rules against state, standing, ring checks
and the fold. At full size every corpus entry is also run as it is
(hypothesis's explicit examples).

A target fails on any exception but the documented ones (``Rejected``
with a reason code; for a sync session, what node/runtime.py catches
around one), and on a broken invariant:

- ``cbor``: what decodes re-encodes to the same bytes, and cbor2 reads the
  same value;
- ``event``: what parses is its own bytes, its id is the hash of its
  unsigned bytes, the fast and the general parsing paths agree;
- ``validate``: only corpus events (or re-signed ones) are accepted;
  standing and ring checks raise nothing but Rejected;
- ``frames`` and ``reconcile`` (protocol/sync_frames.py, reconcile.py):
  what decodes re-encodes; an answer is always a message the peer accepts;
- ``bundle``: the same items and the same error however the bytes are cut;
- ``genesis``: what parses has the hash of its bytes as network id;
- ``store_ingest``: node/ingest.py into a NetworkStore on SQLite, lists of
  arbitrary, damaged and re-signed events: one outcome per input, exactly
  the stored ones stored (never a partial write), a state that still
  snapshots to JSON, and the same state as a fold of everything stored
  from scratch (every fifth case);
- ``sync_session``: node/sync.py sessions over an in-memory stream with a
  hostile peer (frames replaced, damaged, cut short, unasked for, bogus
  lengths, the stream closed; or a peer that only sends what it drew),
  the victim as initiator or responder: the session ends (within 10 s),
  the responder never raises, the initiator raises only what the runtime
  catches, and only valid events are stored;
- ``store_model``: the SQLite store against the memory store, the
  hypothesis state machine of tests/storage/test_store_stateful.py.

Where it is: vector_corpus.py (the corpus), fuzz_strategies.py (the
strategies), fuzz_runner.py (running a target, and the store's state
machine), fuzz_targets.py (the properties), fuzz_sessions.py and
memory_stream.py (the sync sessions).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import trio
from forgery_world import World, build_world
from fuzz_runner import Outcome, run_target, store_model
from fuzz_sessions import SessionTarget, quiet_sync_logs, session_cases
from fuzz_strategies import Resigner, corpus_bytes, mutated
from fuzz_targets import (
    IngestTarget,
    ReconcileTarget,
    ValidateTarget,
    check_bundle,
    check_cbor,
    check_event,
    check_frame,
    check_genesis,
)
from hypothesis import strategies as st
from vector_corpus import Corpus, load_corpus

from protocol.reconcile import SortedKeys
from protocol.state import Governance
from storage.state import open_network_store

#: Cases per target: the issue's full run (at least 100,000 in all) and CI's.
SIZES: dict[str, tuple[int, int]] = {
    "cbor": (32_000, 800),
    "event": (22_000, 600),
    "validate": (16_000, 500),
    "frames": (8_000, 300),
    "reconcile": (10_000, 400),
    "bundle": (5_000, 200),
    "genesis": (3_000, 150),
    "store_ingest": (6_000, 300),
    "sync_session": (4_000, 200),
    "store_model": (200, 8),
}
FULL_MINIMUM = 100_000


def fuzz(*, full: bool, seed: int = 1) -> dict[str, Any]:
    """Every target at its size (``SIZES``); see the module's docstring."""
    started = time.perf_counter()
    size = {name: sizes[0 if full else 1] for name, sizes in SIZES.items()}
    corpus = load_corpus()
    world = build_world()
    now_ms = world.scenario.now + 60_000
    raws = [raw for raw, _ in corpus.events]
    event_bytes = corpus_bytes(raws, max_size=400)
    outcomes: list[Outcome] = []

    def explicit(values: Sequence[Any]) -> Sequence[Any]:
        return values if full else ()

    others = corpus.messages + corpus.frames + corpus.genesis + corpus.bundles
    outcomes.append(
        run_target(
            "cbor",
            st.one_of(event_bytes, corpus_bytes(others)),
            check_cbor,
            size["cbor"],
            seed,
            explicit(raws + corpus.messages + corpus.frames + corpus.genesis),
        )
    )
    outcomes.append(
        run_target("event", event_bytes, check_event, size["event"], seed, explicit(raws))
    )
    resigner = Resigner(world)
    world_raws = [e.raw for e in world.events]
    validate = ValidateTarget(world, set(raws) | set(world_raws), now_ms)
    nets = sorted({net for _, net in corpus.events})
    outcomes.append(
        run_target(
            "validate",
            st.one_of(
                st.tuples(
                    corpus_bytes(raws),
                    st.sampled_from(nets),
                    st.just(False),
                ),
                st.tuples(resigner.strategy(), st.just(world.net), st.just(True)),
                st.tuples(mutated(world_raws), st.just(world.net), st.just(False)),
            ),
            validate,
            size["validate"],
            seed,
            explicit([(raw, net, False) for raw, net in corpus.events]),
        )
    )
    outcomes.append(
        run_target(
            "frames",
            corpus_bytes(corpus.frames),
            check_frame,
            size["frames"],
            seed,
            explicit(corpus.frames),
        )
    )
    sources = (SortedKeys(corpus.sync_keys[0]), SortedKeys(corpus.sync_keys[1]))
    outcomes.append(
        run_target(
            "reconcile",
            st.tuples(corpus_bytes(corpus.messages, max_size=200), st.booleans()),
            ReconcileTarget(sources),
            size["reconcile"],
            seed,
            explicit([(m, i) for m in corpus.messages for i in (True, False)]),
        )
    )
    outcomes.append(
        run_target(
            "bundle",
            st.tuples(corpus_bytes(corpus.bundles), st.lists(st.integers(0, 600), max_size=6)),
            check_bundle,
            size["bundle"],
            seed,
            explicit([(b, [1, 7, 50]) for b in corpus.bundles]),
        )
    )
    outcomes.append(
        run_target(
            "genesis",
            corpus_bytes(corpus.genesis),
            check_genesis,
            size["genesis"],
            seed,
            explicit(corpus.genesis),
        )
    )
    outcomes += trio.run(partial(_with_stores, world, corpus, size, seed, now_ms, resigner))
    outcomes.append(store_model(size["store_model"]))

    total = sum(o.cases for o in outcomes)
    failures = sum(o.failures for o in outcomes)
    minimum = FULL_MINIMUM if full else sum(s[1] for s in SIZES.values()) // 2
    return {
        "passed": failures == 0 and total >= minimum,
        "criterion": (
            "no exception but the documented ones (Rejected with a reason code; a sync "
            "session's errors the runtime catches) and no broken invariant, over "
            f"at least {minimum:,} cases"
        ),
        "cases_by_target": {o.name: o.cases for o in outcomes},
        "total_cases": total,
        "failures": failures,
        "failed": [
            {"target": o.name, "error": o.error, "example": o.example}
            for o in outcomes
            if o.failures
        ],
        "elapsed_s_by_target": {o.name: o.elapsed_s for o in outcomes},
        "details": {o.name: o.extra for o in outcomes if o.extra},
        "corpus": {
            "events": len(corpus.events),
            "messages": len(corpus.messages),
            "frames": len(corpus.frames),
            "bundles": len(corpus.bundles),
            "genesis": len(corpus.genesis),
        },
        "full": full,
        "seed": seed,
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


async def _with_stores(
    world: World,
    corpus: Corpus,
    size: dict[str, int],
    seed: int,
    now_ms: int,
    resigner: Resigner,
) -> list[Outcome]:
    """The targets that need trio: hypothesis runs on a worker thread and
    calls back into trio for each case."""
    outcomes: list[Outcome] = []
    raws = [raw for raw, _ in corpus.events]
    world_raws = [e.raw for e in world.events]
    with tempfile.TemporaryDirectory(prefix="ayllu-fuzz-") as tmp:
        async with open_network_store(Path(tmp) / "fuzz.sqlite3", world.genesis) as store:
            await store.ingest(world.events, now_ms)
            ingest = IngestTarget(store, now_ms, {e.id for e in world.events})
            items = st.one_of(
                resigner.strategy(),
                mutated(world_raws),
                st.sampled_from(world_raws),
                corpus_bytes(raws),
                st.binary(max_size=80),
            )
            outcome = await trio.to_thread.run_sync(
                run_target,
                "store_ingest",
                st.lists(items, min_size=1, max_size=5),
                ingest,
                size["store_ingest"],
                seed,
            )
            outcome.extra = {
                "refolds_compared": ingest.refolds,
                "stored_at_start": len(world.events),
                "stored_at_end": len(ingest.stored),
            }
            outcomes.append(outcome)
    governance = Governance(world.genesis)
    governance.add(world.events)
    session = SessionTarget(world, governance, now_ms)
    with quiet_sync_logs():
        outcome = await trio.to_thread.run_sync(
            run_target,
            "sync_session",
            session_cases(corpus, raws),
            session,
            size["sync_session"],
            seed,
        )
    outcome.extra = {"victim_outcomes": session.outcomes}
    outcomes.append(outcome)
    return outcomes


SCENARIOS = {"fuzz": fuzz}
