"""The peers a node refuses: those its operator denies, and those it bans
for a while because they misbehaved.

A node serves people whom powerful actors would like to silence; some of
its peers will be hostile. Gossipsub's score already ignores a peer that
forwards invalid events or floods a topic, but an ignored peer still
holds a connection, its streams and the node's attention. The gate turns
misbehaviour past the ban threshold (node/gossip.py: invalid events
forwarded, messages past the rate limit; not the score's other
penalties, which an honest node that restarts can earn) into a ban: the connection is
closed, the peer is not dialled, and what it sends is not taken, for
``BAN_S`` seconds, doubled at each new ban of the same peer (a flooder
that comes back comes back for less and less). The operator's deny file
(``ayllu run --deny-file``) refuses peers for as long as they are listed;
it is read again whenever it changes, so that a peer can be cut off, or
let back, without a restart.

A deny file holds one peer id per line; ``#`` starts a comment. A line
that is no peer id is skipped and reported in the node's status, never
fatal: a typo must not take a community's node down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libp2p.peer.id import ID

logger = logging.getLogger(__name__)

#: Seconds a first ban lasts; each new ban of the same peer doubles it.
BAN_S = 600.0
#: The longest ban, seconds: a day.
MAX_BAN_S = 86_400.0


@dataclass
class Ban:
    until: float
    reason: str
    count: int


class PeerGate:
    """Whom to refuse, as of now (``clock``: seconds, monotonic)."""

    def __init__(
        self, deny_file: Path | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.deny_file = deny_file
        self._clock = clock
        self.denied: set[str] = set()
        self.bans: dict[str, Ban] = {}
        self.deny_file_errors: list[str] = []
        self._deny_file_stamp: tuple[int, int] | None = None
        self.refresh()

    def refused(self, peer: ID) -> str | None:
        """Why ``peer`` is refused (``denied``, ``banned: <reason>``), or None."""
        name = str(peer)
        if name in self.denied:
            return "denied"
        ban = self.bans.get(name)
        if ban is not None and ban.until > self._clock():
            return f"banned: {ban.reason}"
        return None

    def ban(self, peer: ID, reason: str) -> float:
        """Ban ``peer`` (again, for twice as long); the ban's length, seconds."""
        name = str(peer)
        known = self.bans.get(name)
        count = 1 if known is None else known.count + 1
        length = min(MAX_BAN_S, BAN_S * 2.0 ** (count - 1))
        self.bans[name] = Ban(self._clock() + length, reason, count)
        logger.warning("banned %s for %.0f s: %s", name, length, reason)
        return length

    def refresh(self) -> None:
        """Read the deny file again if it changed (or appeared, or went)."""
        if self.deny_file is None:
            return
        try:
            stat = self.deny_file.stat()
        except FileNotFoundError:
            if self._deny_file_stamp is not None or not self.deny_file_errors:
                self.denied, self._deny_file_stamp = set(), None
                self.deny_file_errors = [f"{self.deny_file} does not exist (nobody is denied)"]
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._deny_file_stamp:
            return
        self._deny_file_stamp = stamp
        self.denied, self.deny_file_errors = _read_deny_file(self.deny_file)
        logger.info("deny file %s: %d peers denied", self.deny_file, len(self.denied))

    def describe(self) -> dict[str, Any]:
        now = self._clock()
        return {
            "deny_file": None if self.deny_file is None else str(self.deny_file),
            "denied": sorted(self.denied),
            "deny_file_errors": list(self.deny_file_errors),
            "banned": [
                {
                    "peer": name,
                    "reason": ban.reason,
                    "count": ban.count,
                    "seconds_left": round(ban.until - now),
                }
                for name, ban in sorted(self.bans.items())
                if ban.until > now
            ],
        }


def _read_deny_file(path: Path) -> tuple[set[str], list[str]]:
    """The peer ids a deny file lists, and what was wrong with its other lines."""
    denied: set[str] = set()
    errors: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return set(), [f"{path}: {exc}"]
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            denied.add(str(ID.from_base58(entry)))
        except Exception:
            errors.append(f"{path}:{number}: not a peer id: {entry[:80]!r}")
    return denied, errors
