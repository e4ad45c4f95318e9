"""The peer gate (node/peer_gate.py): the operator's deny file, read again
when it changes and never fatal, and bans that lengthen and expire."""

from __future__ import annotations

import os
from pathlib import Path

from event_factory import signing_key
from libp2p.peer.id import ID

from node.host import peer_of
from node.peer_gate import BAN_S, MAX_BAN_S, PeerGate


def peer(name: str) -> ID:
    return peer_of(bytes(signing_key(name).verify_key))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bans_double_for_a_peer_that_comes_back_and_expire() -> None:
    clock = Clock()
    gate = PeerGate(clock=clock)
    flooder, honest = peer("flooder"), peer("honest")
    assert gate.ban(flooder, "score -60") == BAN_S
    assert gate.refused(flooder) == "banned: score -60" and gate.refused(honest) is None
    clock.now += BAN_S + 1
    assert gate.refused(flooder) is None and gate.describe()["banned"] == []
    assert gate.ban(flooder, "score -55") == 2 * BAN_S
    [ban] = gate.describe()["banned"]
    assert (ban["count"], ban["seconds_left"]) == (2, 2 * BAN_S)
    for _ in range(20):
        length = gate.ban(flooder, "again")
    assert length == MAX_BAN_S


def test_the_deny_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    deny = tmp_path / "deny"
    gate = PeerGate(deny)
    assert gate.denied == set() and "does not exist" in gate.deny_file_errors[0]
    hostile, other = peer("hostile"), peer("other")
    deny.write_text(f"{hostile}\n\n# {other} is fine now\n")
    gate.refresh()
    assert gate.refused(hostile) == "denied" and gate.refused(other) is None
    deny.write_text(f"{other}\n\u00e9\u00e9\n")
    os.utime(deny, ns=(1, 1))  # a change the file's time alone would not show
    gate.refresh()
    assert gate.refused(hostile) is None and gate.refused(other) == "denied"
    assert gate.deny_file_errors == [f"{deny}:2: not a peer id: 'éé'"]
    deny.write_bytes(b"\xff\xfe not text")
    gate.refresh()
    assert gate.denied == set() and len(gate.deny_file_errors) == 1
    deny.unlink()
    gate.refresh()
    assert gate.denied == set() and "does not exist" in gate.deny_file_errors[0]
