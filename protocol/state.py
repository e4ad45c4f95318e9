"""The network's state: a deterministic fold over its governance events.

Theory of operation
-------------------
Registrars, certificates, groups, members, coordinators and merit are not
stored as such anywhere: they are what the governance events say, read in
one fixed order, the key order (ts, id). That order is a topological order
of the references (an event's refs are never newer than itself), it is the
same on every node, and it does not depend on the order in which events
arrived. Two nodes holding the same events therefore hold the same state,
whatever reached them first, and a conflict between concurrent events (two
admissions for the last seat of a group) is settled the same way everywhere:
the first in key order applies, the other is *refused* with its reason code.

A refused event stays stored: it is signed and well formed, and keeping it
is what lets every node converge on the same set of events (a node that
dropped it would fetch it again from every peer that kept it). It simply
has no effect. Events that are malformed, badly signed or of another
network never get here: they are rejected on decoding and never stored.

Events usually arrive in key order (they are new), and folding one costs a
dictionary update or two. An event older than the newest one folded, such
as one carried by hand from a community that was offline for a week, makes
the fold start again from the genesis; governance events are few (a group
has a few dozen per term) and the fold is cheap, so that stays fast.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterable
from typing import Any

from protocol.ballots import Ballots
from protocol.errors import Rejected
from protocol.event import SignedEvent
from protocol.genesis import Genesis
from protocol.groups import Groups
from protocol.kinds import GOVERNANCE_KINDS
from protocol.ledger import Ledger
from protocol.oversight import Oversight
from protocol.power_map import PowerMap
from protocol.proposals import Proposals
from protocol.recall import Recalls
from protocol.registry import Registry
from protocol.reports import Reports
from protocol.roles import Roles

Key = tuple[int, bytes]


class NetworkState:
    """Registrars, certificates and groups as of the events applied so far."""

    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self.registry = Registry(genesis)
        self.groups = Groups(genesis, self.registry)
        self.proposals = Proposals(self.registry, self.groups)
        self.roles = Roles(self.registry, self.groups)
        self.ballots = Ballots(self.registry, self.groups, self.proposals, self.roles)
        self.oversight = Oversight(self.groups)
        self.power_map = PowerMap(self.registry, self.groups)
        self.ledger = Ledger(self.groups, self.roles, self.ballots)
        self.reports = Reports(self.registry, self.groups)
        self.recalls = Recalls(self.registry, self.groups, self.roles, self.ballots, self.oversight)

    def snapshot(self, at_ms: int) -> dict[str, Any]:
        """The whole state as JSON-ready data: what two nodes holding the same
        events agree on, byte for byte once encoded."""
        registry = self.registry
        return {
            "network": self.genesis.network_id.hex(),
            "registrars": sorted(key.hex() for key in registry.registrars),
            "quorum": registry.quorum,
            "epoch": registry.epoch,
            "certificates": sorted(
                (c.describe(at_ms) for c in registry.certificates.values()),
                key=lambda c: str(c["id"]),
            ),
            "groups": sorted(
                (self.groups.describe(gid, at_ms) for gid in self.groups.groups),
                key=lambda g: str(g["id"]),
            ),
            "proposals": self.proposals.describe_all(at_ms),
            "ballots": [self.ballots.outcome(bid) for bid in sorted(self.ballots.ballots)],
            "evidence": [evidence.describe() for evidence in self.ballots.evidence],
            "roles": {
                gid.hex(): self.roles.describe(gid, at_ms) for gid in sorted(self.groups.groups)
            },
            "oversight": {
                group.hex(): overseer.hex()
                for group, overseer in sorted(self.oversight.appointed.items())
            },
            "motions": self.recalls.describe_all(),
            "power_map": self.power_map.describe_all(),
            "ledger": self.ledger.describe_all(),
            "reports": self.reports.describe_all(),
            "report_keys": self.reports.describe_box_keys(),
        }

    def apply(self, event: SignedEvent) -> None:
        """Fold one governance event in; Rejected (and no change) if refused."""
        _HANDLERS[event.kind](self, event)

    def _replace(self, event: SignedEvent) -> None:
        old = self.registry.apply_replace(event)
        self.groups.replace_key(old.member, event.event.body["member"])


_HANDLERS: dict[str, Callable[[NetworkState, SignedEvent], None]] = {
    "registrar.change": lambda s, e: s.registry.apply_registrar_change(e),
    "cert.issue": lambda s, e: s.registry.apply_issue(e),
    "cert.replace": NetworkState._replace,
    "cert.revoke": lambda s, e: s.registry.apply_revoke(e),
    "group.charter": lambda s, e: s.groups.apply_charter(e),
    "group.apply": lambda s, e: s.groups.apply_group_apply(e),
    "group.admit": lambda s, e: s.groups.apply_group_admit(e),
    "group.leave": lambda s, e: s.groups.apply_group_leave(e),
    "group.nodes": lambda s, e: s.groups.apply_group_nodes(e),
    "member.apply": lambda s, e: s.groups.apply_member_apply(e),
    "member.admit": lambda s, e: s.groups.apply_member_admit(e),
    "member.leave": lambda s, e: s.groups.apply_member_leave(e),
    "coordinator.endorse": lambda s, e: s.groups.apply_endorse(e),
    "merit.attest": lambda s, e: s.groups.apply_attest(e),
    "proposal": lambda s, e: s.proposals.apply_proposal(e),
    "proposal.amend": lambda s, e: s.proposals.apply_amend(e),
    "proposal.translate": lambda s, e: s.proposals.apply_translate(e),
    "translation.confirm": lambda s, e: s.proposals.apply_confirm(e),
    "comment": lambda s, e: s.proposals.apply_comment(e),
    "proposal.support": lambda s, e: s.proposals.apply_support(e),
    "ballot.open": lambda s, e: s.ballots.apply_open(e),
    "ballot.ring": lambda s, e: s.ballots.apply_ring(e),
    "vote": lambda s, e: s.ballots.apply_vote(e),
    "result.count": lambda s, e: s.ballots.apply_count(e),
    "result.sum": lambda s, e: s.ballots.apply_sum(e),
    "recall.motion": lambda s, e: s.recalls.apply_motion(e),
    "recall.support": lambda s, e: s.recalls.apply_support(e),
    "recall.conviction": lambda s, e: s.recalls.apply_conviction(e),
    "oversight.appoint": lambda s, e: s.oversight.apply_appoint(e),
    "map.claim": lambda s, e: s.power_map.apply_claim(e),
    "map.review": lambda s, e: s.power_map.apply_review(e),
    "ledger.budget": lambda s, e: s.ledger.apply_budget(e),
    "ledger.allocate": lambda s, e: s.ledger.apply_allocate(e),
    "ledger.spend": lambda s, e: s.ledger.apply_spend(e),
    "ledger.income": lambda s, e: s.ledger.apply_income(e),
    "ledger.grant": lambda s, e: s.ledger.apply_grant(e),
    "ledger.surplus": lambda s, e: s.ledger.apply_surplus(e),
    "ledger.treasury": lambda s, e: s.ledger.apply_treasury(e),
    "oversight.key": lambda s, e: s.reports.apply_box_key(e),
    "report.ring": lambda s, e: s.reports.apply_ring(e),
    "report": lambda s, e: s.reports.apply_report(e),
    "report.reply": lambda s, e: s.reports.apply_reply(e),
    "report.followup": lambda s, e: s.reports.apply_followup(e),
}


class Governance:
    """The ordered fold: governance events in key order, the state they
    make, and which of them were refused and why."""

    def __init__(self, genesis: Genesis) -> None:
        self.genesis = genesis
        self.state = NetworkState(genesis)
        self._keys: list[Key] = []
        self._events: dict[bytes, SignedEvent] = {}
        self._refused: dict[bytes, Rejected] = {}
        #: How many times the fold started over for a late event.
        self.refolds = 0

    def __len__(self) -> int:
        return len(self._keys)

    def refusal(self, event_id: bytes) -> Rejected | None:
        """Why a folded event had no effect, or None if it applied (or is unknown)."""
        return self._refused.get(event_id)

    def preview(self, event: SignedEvent) -> Rejected | None:
        """What folding ``event`` would give, without folding it.

        For a node about to sign and publish a governance event for its
        user: a refused event would be stored and spread for nothing, so
        the user gets the reason instead. Costs a copy of the state (or a
        refold of a copy, for an event older than the newest folded). An
        event of a kind outside the fold (a note, a peer record) is never
        refused.
        """
        if event.kind not in GOVERNANCE_KINDS:
            return None
        if event.id in self._events:
            return self._refused.get(event.id)
        if not self._keys or (event.ts, event.id) > self._keys[-1]:
            trial_state = copy.deepcopy(self.state)
            try:
                trial_state.apply(event)
            except Rejected as exc:
                return exc
            return None
        trial = Governance(self.genesis)
        trial.add([*self._events.values(), event])
        return trial.refusal(event.id)

    def add(self, events: Iterable[SignedEvent]) -> dict[bytes, Rejected | None]:
        """Fold governance events in (others are ignored); the outcome of each.

        Events in key order after everything folded so far are applied one
        by one; if any sorts earlier, the fold starts over once for the lot.
        Outcomes of events folded before may change then: ``refusal`` always
        gives the current one.
        """
        fresh = [
            event
            for event in events
            if event.kind in GOVERNANCE_KINDS and event.id not in self._events
        ]
        fresh.sort(key=lambda event: (event.ts, event.id))
        late = bool(fresh) and bool(self._keys) and (fresh[0].ts, fresh[0].id) < self._keys[-1]
        for event in fresh:
            self._events[event.id] = event
            if late:
                bisect.insort(self._keys, (event.ts, event.id))
            else:
                self._keys.append((event.ts, event.id))
                self._apply(event)
        if late:
            self._refold()
        return {event.id: self._refused.get(event.id) for event in fresh}

    def _apply(self, event: SignedEvent) -> None:
        try:
            self.state.apply(event)
        except Rejected as exc:
            self._refused[event.id] = exc

    def _refold(self) -> None:
        self.refolds += 1
        self.state = NetworkState(self.genesis)
        self._refused = {}
        for _, event_id in self._keys:
            self._apply(self._events[event_id])
