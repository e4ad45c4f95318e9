"""Builds specs/vectors/network.json: topic names, gossip message ids, and
for nodes placed in a small fractal, their topics, their neighbours and
where they carry each kind of event (specs/network.md).

Run ``python tests/vectors/network_vector_builder.py`` to rewrite the file
after a rule change (and change the spec in the same commit).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from event_factory import note
from network_factory import Scenario, build_tree

from protocol.state import Governance
from protocol.sync_frames import MAX_SCOPE
from protocol.topics import (
    Position,
    family_topic,
    group_topic,
    message_id,
    neighbour_groups,
    sync_scope,
)

VECTORS_PATH = Path(__file__).resolve().parents[2] / "specs" / "vectors" / "network.json"


def _names() -> list[dict[str, str]]:
    cases = []
    for n in range(2):
        net = hashlib.sha256(b"network %d" % n).digest()
        group = hashlib.sha256(b"group %d" % n).digest()
        cases.append(
            {
                "network_hex": net.hex(),
                "group_hex": group.hex(),
                "group_topic": group_topic(net, group),
                "family_topic": family_topic(net, group),
            }
        )
    return cases


def _message_ids() -> list[dict[str, Any]]:
    net, group = hashlib.sha256(b"network 0").digest(), hashlib.sha256(b"group 0").digest()
    data = note(1_767_225_600_000, group=group, net=net, text="Kunan tutapi huñunakusun.").raw
    cases = []
    for topics in ([group_topic(net, group)], [family_topic(net, group)], []):
        cases.append(
            {
                "topics": topics,
                "data_hex": data.hex(),
                "message_id_hex": message_id(topics, data).hex(),
            }
        )
    return cases


def _positions() -> dict[str, Any]:
    """A root of level 3, two level-2 groups with two base groups each."""
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=2, size=3)
    governance = Governance(s.genesis)
    governance.add(s.events)
    groups = governance.state.groups
    net = s.net
    placed = []
    for group in sorted(tree.levels, key=lambda g: (-tree.levels[g], g)):
        position = Position.of(net, groups, [group])
        placed.append(
            {
                "served_hex": [group.hex()],
                "topics": sorted(position.topics),
                "neighbours": {
                    g.hex(): role for g, role in sorted(neighbour_groups(groups, [group]).items())
                },
                "sync_scope_hex": _hexes(sync_scope(groups, [group], MAX_SCOPE)),
                "vote_relay_topics": {
                    g.hex(): position.relay_topics("vote", g, groups, arrived_on=None)
                    for g in sorted(tree.levels)
                },
            }
        )
    return {
        "network_hex": net.hex(),
        "groups": [
            {
                "id_hex": g.hex(),
                "level": tree.levels[g],
                "parent_hex": _hex(groups.parent(g)),
            }
            for g in sorted(tree.levels, key=lambda g: (-tree.levels[g], g))
        ],
        "nodes": placed,
    }


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _hexes(values: list[bytes] | None) -> list[str] | None:
    return None if values is None else [value.hex() for value in values]


def render() -> str:
    document = {
        "description": (
            "Gossip on the fractal (specs/network.md): topic names, message ids "
            "(SHA-256 of each topic in UTF-8 followed by a zero byte, then the data), "
            "and for a node serving each group of a small fractal, its topics, its "
            "neighbour groups with their roles, the groups it syncs (null: all), and "
            "for a vote in each group, the topics it relays it on (any other new "
            "event goes on all its topics but the one it came on)."
        ),
        "names": _names(),
        "message_ids": _message_ids(),
        "positions": _positions(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    VECTORS_PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {VECTORS_PATH}")
