"""The genesis document: what a network is, and so what its id is.

A network is defined by one small document that every node is configured
with: the root group's charter, the key that founded it, and the initial
registrars with their quorum. The network id is SHA-256 of the document's
canonical CBOR bytes. Every event carries that id (specs/events.md,
"Network"), so an event signed for one network can never be replayed into
another, and two networks with the same software never mix.

The root group's id is the network id: the root has no founding event of
its own, its charter lives in the genesis document.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from protocol import cbor
from protocol.errors import LocalError, Reason, Rejected
from protocol.kinds import CHARTER
from protocol.schema import BodySchema, array_of, integer, nested, sorted_unique, text

GENESIS_VERSION = 1
MAX_REGISTRARS = 64
#: Genesis documents are small; a bigger file is not one.
MAX_GENESIS_SIZE = 8192
#: Bootstrap peers a genesis document may name.
MAX_BOOTSTRAP = 16


def _bootstrap_address(value: Any) -> str | None:
    """A multiaddr in its text form that names its peer (``.../p2p/ID``)."""
    if type(value) is not str or not 1 <= len(value) <= 300:
        return "must be a text of 1 to 300 characters"
    if not value.startswith("/") or "/p2p/" not in value:
        return "must be a multiaddr ending in /p2p/<peer id>"
    return None


def _key(value: Any) -> str | None:
    if type(value) is not bytes or len(value) != 32:
        return "must be a 32-byte key"
    return None


GENESIS = BodySchema(
    required={
        "v": integer(GENESIS_VERSION, GENESIS_VERSION),
        "ts": integer(0, 2**53 - 1),
        "name": text(1, 100),
        "root": nested(CHARTER),
        "quorum": integer(1, MAX_REGISTRARS),
        "founder": _key,
        "registrars": sorted_unique(_key, 1, MAX_REGISTRARS),
    },
    # The network's default bootstrap peers (specs/genesis.md section 4).
    optional={"bootstrap": array_of(_bootstrap_address, 1, MAX_BOOTSTRAP)},
)


@dataclass(frozen=True, slots=True)
class Genesis:
    """A parsed genesis document and the network id its bytes hash to."""

    raw: bytes
    network_id: bytes
    name: str
    ts: int
    root: Mapping[str, Any]
    founder: bytes
    registrars: tuple[bytes, ...]
    quorum: int
    #: Default bootstrap peers, multiaddrs with /p2p/ (may be empty).
    bootstrap: tuple[str, ...] = ()

    @property
    def root_level(self) -> int:
        level: int = self.root["level"]
        return level


def parse_genesis(raw: bytes) -> Genesis:
    """Decode and check a genesis document; Rejected(bad_genesis) if unfit.

    Decoding errors keep their own reason (a non-canonical document is
    refused like a non-canonical event), everything else is bad_genesis.
    """
    value = cbor.decode(raw, max_size=MAX_GENESIS_SIZE)
    if type(value) is not dict:
        raise Rejected(Reason.BAD_GENESIS, "a genesis document is a map")
    try:
        GENESIS.check(value)
    except Rejected as exc:
        raise Rejected(Reason.BAD_GENESIS, exc.detail) from None
    if value["quorum"] > len(value["registrars"]):
        raise Rejected(Reason.BAD_GENESIS, "quorum is larger than the number of registrars")
    raw = bytes(raw)
    return Genesis(
        raw=raw,
        network_id=hashlib.sha256(raw).digest(),
        name=value["name"],
        ts=value["ts"],
        root=value["root"],
        founder=value["founder"],
        registrars=tuple(value["registrars"]),
        quorum=value["quorum"],
        bootstrap=tuple(value.get("bootstrap", ())),
    )


def make_genesis(
    *,
    name: str,
    ts: int,
    root: Mapping[str, Any],
    founder: bytes,
    registrars: Sequence[bytes],
    quorum: int,
    bootstrap: Sequence[str] = (),
) -> Genesis:
    """Build a genesis document (registrars in any order); LocalError if unfit."""
    value = {
        "v": GENESIS_VERSION,
        "ts": ts,
        "name": name,
        "root": dict(root),
        "quorum": quorum,
        "founder": founder,
        "registrars": sorted(set(registrars)),
    }
    if bootstrap:
        value["bootstrap"] = list(bootstrap)
    try:
        return parse_genesis(cbor.encode(value))
    except Rejected as exc:
        raise LocalError(f"not a valid genesis document: {exc}") from exc
