"""Rapid recall: power can be taken back at any time
(specs/accountability.md section 3).

A recall *motion* against whoever holds a role of a group is put by one of
the group's electors (its members; above the base, the coordinators of its
children, the groups that chose the holder) and supported by others. When
the charter's share of the electorate, as it stood when the motion was put,
supports it within ``recall_days``, the motion *qualifies* and its recall
ballot opens by itself: nobody has to agree to open it, least of all the
holder. A conviction for corruption, recorded by the group's oversight
group, qualifies at once.

The ballot is derived from the motion (protocol/ballots.py
``open_derived``): its id is the motion's, its schedule follows from the
moment of qualification, so every node derives the same ballot from the
same events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol.ballots import RECALL_OPTIONS, Ballots
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import DAY_MS, Groups
from protocol.oversight import Oversight
from protocol.registry import Registry
from protocol.roles import Roles


@dataclass(slots=True)
class Motion:
    """A recall motion (or a conviction, which needs no support)."""

    id: bytes
    group: bytes
    role: str
    holder: bytes
    author: bytes
    opened: int
    #: Who may support it: the group's electorate when it was put.
    electorate: frozenset[bytes]
    needed: int
    conviction: bool
    supporters: list[bytes] = field(default_factory=list)
    #: When it reached its support; its ballot opens an hour after.
    qualified: int | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id.hex(),
            "group": self.group.hex(),
            "role": self.role,
            "holder": self.holder.hex(),
            "conviction": self.conviction,
            "opened_ms": self.opened,
            "supporters": [key.hex() for key in self.supporters],
            "needed": self.needed,
            "qualified_ms": self.qualified,
        }


class Recalls:
    """Every recall motion and conviction, as of the events folded so far."""

    def __init__(
        self,
        registry: Registry,
        groups: Groups,
        roles: Roles,
        ballots: Ballots,
        oversight: Oversight,
    ) -> None:
        self.registry = registry
        self.groups = groups
        self.roles = roles
        self.ballots = ballots
        self.oversight = oversight
        self.motions: dict[bytes, Motion] = {}

    def apply_motion(self, event: SignedEvent) -> None:
        body = event.event.body
        group = self.groups.group(event.group)
        self.registry.require_certified(event.author, event.ts)
        electorate = frozenset(self.groups.electorate(group.id, event.ts))
        if event.author not in electorate:
            raise Rejected(Reason.NOT_AUTHORIZED, "a recall motion is put by an elector")
        self._check_target(group.id, body["role"], body["holder"], event.ts)
        # The charter's share of the electorate, rounded up, and at least one.
        needed = max(1, -(-group.rules["support_pct"] * len(electorate) // 100))
        motion = Motion(
            event.id,
            group.id,
            body["role"],
            body["holder"],
            event.author,
            event.ts,
            electorate,
            needed,
            conviction=False,
        )
        self.motions[event.id] = motion
        self._support(motion, event)

    def apply_support(self, event: SignedEvent) -> None:
        motion = self.motions.get(event.event.body["motion"])
        if motion is None or motion.group != event.group or motion.conviction:
            raise Rejected(Reason.UNKNOWN_MOTION, "no recall motion of this group by that id")
        self.registry.require_certified(event.author, event.ts)
        if event.author not in motion.electorate:
            raise Rejected(
                Reason.NOT_AUTHORIZED, "a motion is supported by the electorate it was put to"
            )
        if event.author in motion.supporters:
            raise Rejected(Reason.DUPLICATE_SUPPORT, "this elector supports the motion already")
        if motion.qualified is None and event.ts >= self._deadline(motion):
            raise Rejected(Reason.MOTION_EXPIRED, "the motion's time for support has passed")
        self._support(motion, event)

    def apply_conviction(self, event: SignedEvent) -> None:
        body = event.event.body
        convicted_in = self.groups.group(body["group"]).id
        if self.oversight.oversight_of(convicted_in) != event.group:
            raise Rejected(Reason.NOT_OVERSIGHT, "not the group's oversight group")
        self.groups.require_acting(event.group, event)
        self._check_target(convicted_in, body["role"], body["holder"], event.ts)
        motion = Motion(
            event.id,
            convicted_in,
            body["role"],
            body["holder"],
            event.author,
            event.ts,
            frozenset(),
            0,
            conviction=True,
        )
        self.motions[event.id] = motion
        self._qualify(motion, event.ts)

    def describe_all(self) -> list[dict[str, Any]]:
        return [self.motions[key].describe() for key in sorted(self.motions)]

    def _support(self, motion: Motion, event: SignedEvent) -> None:
        motion.supporters.append(event.author)
        if motion.qualified is None and len(motion.supporters) >= motion.needed:
            self._qualify(motion, event.ts)

    def _qualify(self, motion: Motion, at_ms: int) -> None:
        motion.qualified = at_ms
        days = self.groups.group(motion.group).rules["recall_days"]
        subject = {"recall": motion.holder, "role": motion.role}
        self.ballots.open_derived(
            motion.id, motion.group, motion.author, at_ms, days, RECALL_OPTIONS, subject
        )

    def _deadline(self, motion: Motion) -> int:
        return motion.opened + self.groups.group(motion.group).rules["recall_days"] * DAY_MS

    def _check_target(self, group_id: bytes, role: str, holder: bytes, at_ms: int) -> None:
        """The holder holds the role now, and no other motion against them
        for it is gathering support or being voted on."""
        if self.roles.holder(group_id, role, at_ms) != holder:
            raise Rejected(Reason.NOT_ROLE_HOLDER, f"{holder.hex()} is not the group's {role}")
        for other in self.motions.values():
            if (other.group, other.role, other.holder) == (group_id, role, holder) and (
                self._pending(other, at_ms)
            ):
                raise Rejected(Reason.DUPLICATE_MOTION, f"motion {other.id.hex()} is pending")

    def _pending(self, motion: Motion, at_ms: int) -> bool:
        if motion.qualified is None:
            return at_ms < self._deadline(motion)
        return at_ms < self.ballots.ballot(motion.id).closes
