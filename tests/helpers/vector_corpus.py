"""The spec vectors (specs/vectors/*.json) as hostile input: every byte
string they hold, by what it is. The fuzz scenario (faults_fuzz.py) seeds
its strategies with this corpus; the forgery scenario replays the vectors'
events of other networks (forgery_cases.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protocol import reconcile
from protocol.genesis import parse_genesis

VECTORS = Path(__file__).resolve().parents[2] / "specs" / "vectors"


def read_vectors(name: str) -> Any:
    """The JSON document of specs/vectors/``name``."""
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Corpus:
    """Every byte string of the spec vectors, by what it is."""

    #: Events with the network they belong to.
    events: list[tuple[bytes, bytes]]
    messages: list[bytes]
    frames: list[bytes]
    bundles: list[bytes]
    genesis: list[bytes]
    #: The keys of the largest sync vector session: (initiator's, responder's).
    sync_keys: tuple[list[reconcile.Key], list[reconcile.Key]]


def load_corpus() -> Corpus:
    """The seed corpus: specs/vectors/*.json."""
    events: list[tuple[bytes, bytes]] = []
    vectors = read_vectors("events.json")
    net = bytes.fromhex(vectors["network_id_hex"])
    events += [(bytes.fromhex(v["input_hex"]), net) for v in vectors["valid"]]
    events += [(bytes.fromhex(v["input_hex"]), net) for v in vectors["invalid"]]
    for name in ("groups.json", "ballots.json", "accountability.json"):
        for scenario in read_vectors(name)["scenarios"]:
            scenario_net = parse_genesis(bytes.fromhex(scenario["genesis_hex"])).network_id
            events += [(bytes.fromhex(e["event_hex"]), scenario_net) for e in scenario["events"]]
    bundle = read_vectors("bundle.json")
    bundles = [
        bytes.fromhex(b["bundle_hex"]) for part in ("valid", "cut", "invalid") for b in bundle[part]
    ]
    for valid in bundle["valid"]:
        events += [
            (bytes.fromhex(item), bytes.fromhex(valid["header"]["net_hex"]))
            for item in valid["items_hex"]
            if len(item) > 64 * 2
        ]
    sync = read_vectors("sync.json")
    messages = [bytes.fromhex(m) for s in sync["sessions"] for m in s["messages_hex"]]
    messages += [bytes.fromhex(m["message_hex"]) for m in sync["invalid"]]
    frames = [
        bytes.fromhex(f["frame_hex"]) for part in ("valid", "invalid") for f in sync["frames"][part]
    ]
    genesis = [
        bytes.fromhex(g["input_hex"])
        for part in ("valid", "invalid")
        for g in read_vectors("genesis.json")[part]
    ]
    genesis.append(bytes.fromhex(vectors["genesis_hex"]))
    largest = max(sync["sessions"], key=lambda s: len(s["messages_hex"]))
    keys = (_sync_keys(largest["initiator_numbers"]), _sync_keys(largest["responder_numbers"]))
    return Corpus(events, messages, frames, bundles, genesis, keys)


def _sync_keys(numbers: Sequence[Sequence[int]]) -> list[reconcile.Key]:
    """The keys of specs/vectors/sync.json's rule (its ``description``)."""
    return [
        (1767225600000 + (n * 37) % 500, hashlib.sha256(b"sync vector %d" % n).digest())
        for start, stop, step in numbers
        for n in range(start, stop, step)
    ]
