"""A process that writes as the node does, to be killed.

    python crash_worker.py ingest STORE GENESIS EVENTS START SEED MAX_BATCH NOW_MS
    python crash_worker.py register DIR START NOW_MS

The crash-safety scenario (tests/helpers/faults_storage.py) starts it,
SIGKILLs it at a random moment, checks the store, and starts it again:
many more kills than restarting ``ayllu run`` would allow in the time.

``ingest`` opens the store as ``ayllu run`` does (``open_network_store``: the WAL
recovered, the state folded), prints ``ready``, then ingests the events of
the file EVENTS from index START on, in batches of random sizes (1 to
MAX_BATCH, from SEED), through ``node.ingest.ingest_raw``, the very path of
``POST /v1/events``. Around each batch it prints ``begin A B`` (the batch
is events A to B-1) and, once ``ingest_raw`` has returned, ``ack A B``:
from that line on, the batch is acknowledged, as a 201 would be. A batch
with an event the store did not take prints ``refused A B I REASON`` and
the worker exits 1. At the end it prints ``done``.

``register`` registers person START, START+1, ... (``person``, ``member``)
with ``node.registrar.register``, as ``ayllu member register`` does: their
Code 1 in the vault DIR/registry.sqlite3 (created by the first), their
certificate in the store DIR/events.sqlite3, of the network of
``network_factory.Scenario()``, by its first registrar. It prints ``begin
I`` before person I and ``ack I CERT`` once ``register`` returned. A person
already certified (a registration killed after its commit, before its
``ack``) is acknowledged with the certificate the store holds: running the
command again is how a registrar finishes an interrupted one.

Each line is one short ``write`` to the pipe, so a line the parent reads
whole was printed whole, and a kill can only cut off what was not yet
written.
"""

from __future__ import annotations

import itertools
import random
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

import trio
from event_factory import signing_key
from network_factory import TAG_KEY, Scenario, key_of

from node import registrar
from node.governance import Refused
from node.ingest import ingest_raw
from node.registrar import Person
from protocol.genesis import parse_genesis
from storage import IngestStatus
from storage.state import open_network_store
from storage.vault import VaultKey

_LENGTH = struct.Struct(">I")
#: The registrar's vault key in ``register``.
VAULT_SECRET = VaultKey(bytes(range(32)))
#: What acknowledges an event: it is stored (REFUSED events are stored too).
STORED = frozenset({IngestStatus.ACCEPTED, IngestStatus.DUPLICATE, IngestStatus.REFUSED})


def append_events(path: Path, raws: Iterable[bytes]) -> None:
    """Append wire events to an events file: each one length-prefixed."""
    with path.open("ab") as file:
        for raw in raws:
            file.write(_LENGTH.pack(len(raw)) + raw)


def read_events(path: Path, start: int = 0) -> list[bytes]:
    """The events of an events file from index ``start`` on."""
    data = path.read_bytes()
    raws: list[bytes] = []
    offset = index = 0
    while offset < len(data):
        (size,) = _LENGTH.unpack_from(data, offset)
        offset += _LENGTH.size
        if index >= start:
            raws.append(data[offset : offset + size])
        offset += size
        index += 1
    return raws


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def ingest_events(
    store_path: Path, genesis_path: Path, events_path: Path, start: int, seed: int,
    max_batch: int, now_ms: int,
) -> int:  # fmt: skip
    genesis = parse_genesis(genesis_path.read_bytes())
    raws = read_events(events_path, start)
    total = start + len(raws)
    rng = random.Random(seed)
    async with open_network_store(store_path, genesis) as store:
        say("ready")
        at = start
        while at < total:
            end = min(total, at + rng.randint(1, max_batch))
            say(f"begin {at} {end}")
            batch = raws[at - start : end - start]
            results = await ingest_raw(
                store, batch, now_ms, genesis.network_id, batch_size=len(batch)
            )
            for index, result in enumerate(results, start=at):
                if result.status not in STORED:
                    say(f"refused {at} {end} {index} {result.reason}")
                    return 1
            say(f"ack {at} {end}")
            at = end
    say("done")
    return 0


def person(index: int) -> Person:
    return Person(f"Persona {index}", "PE", "DNI", str(50_000_000 + index))


def member(index: int) -> bytes:
    return key_of(signing_key(f"crash member {index}"))


async def register(data: Path, start: int, now_ms: int) -> int:
    s = Scenario()
    async with open_network_store(data / "events.sqlite3", s.genesis) as store:
        say("ready")
        for index in itertools.count(start):
            say(f"begin {index}")
            try:
                done = await registrar.register(
                    store, data / registrar.VAULT_FILE, VAULT_SECRET, s.registrars[0], TAG_KEY,
                    person(index), member(index), now_ms=now_ms,
                )  # fmt: skip
                cert = done.cert
            except Refused:
                held = store.state.registry.by_tag.get(registrar.tag_of(TAG_KEY, person(index)))
                if held is None or held.member != member(index):
                    raise
                cert = held.id
            say(f"ack {index} {cert.hex()}")
    return 0


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "register":
        sys.exit(trio.run(register, Path(args[0]), int(args[1]), int(args[2])))
    store, genesis, events, *numbers = args
    start, seed, max_batch, now_ms = map(int, numbers)
    paths = Path(store), Path(genesis), Path(events)
    sys.exit(trio.run(ingest_events, *paths, start, seed, max_batch, now_ms))


if __name__ == "__main__":
    main()
