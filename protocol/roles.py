"""Who holds which role of a group, term by term: custody, not ownership.

A group has three roles (specs/accountability.md section 2): its
*coordinator* (groups.md section 6: endorsed or elected, for terms of
``term_days``), its *steward*, who keeps the group's accounts, and its
*auditor*. Stewards and auditors hold their role only by election
(``ballot.open`` with ``candidates`` and ``role``), for one term of whole
calendar months (a quarter and a year by default), and nobody holds it
after the term ends: an expired role is vacant until the next election, so
that nobody keeps the purse by default. A recall removes a holder for the
rest of the term.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from protocol.calendar import month_of, month_start_ms
from protocol.groups import Groups
from protocol.registry import Registry

#: The roles held by election only, with the charter rule of their term.
TERM_MONTHS_RULE = {"steward": "steward_months", "auditor": "auditor_months"}


@dataclass(slots=True)
class _Terms:
    """One role of one group: whom elections chose, whom recalls removed."""

    elected: dict[int, bytes] = field(default_factory=dict)
    recalled: dict[int, set[bytes]] = field(default_factory=dict)


class Roles:
    """The roles of every group; the coordinator's is kept by ``Groups``."""

    def __init__(self, registry: Registry, groups: Groups) -> None:
        self.registry = registry
        self.groups = groups
        self._terms: dict[tuple[bytes, str], _Terms] = {}

    def term_at(self, group_id: bytes, role: str, at_ms: int) -> int:
        """The role's term that holds ``at_ms``."""
        group = self.groups.group(group_id)
        if role == "coordinator":
            return group.term_at(at_ms)
        return month_of(at_ms) // group.rules[TERM_MONTHS_RULE[role]]

    def term_span(self, group_id: bytes, role: str, term: int) -> tuple[int, int]:
        """When the term starts (inclusive) and ends (exclusive), in ms."""
        group = self.groups.group(group_id)
        if role == "coordinator":
            return term * group.term_ms, (term + 1) * group.term_ms
        months = group.rules[TERM_MONTHS_RULE[role]]
        return month_start_ms(term * months), month_start_ms((term + 1) * months)

    def holder(self, group_id: bytes, role: str, at_ms: int) -> bytes | None:
        """Who holds the role at ``at_ms``: for a steward or auditor, whom an
        election chose for the term, while certified and in the group's
        subtree, unless a recall removed them; else nobody."""
        if role == "coordinator":
            return self.groups.coordinator(group_id, at_ms)
        term = self.term_at(group_id, role, at_ms)
        terms = self._terms.get((group_id, role)) or _Terms()
        chosen = terms.elected.get(term)
        if (
            chosen is None
            or chosen in terms.recalled.get(term, set())
            or not self.registry.is_certified(chosen, at_ms)
            or not self.groups.in_subtree(chosen, group_id)
        ):
            return None
        return chosen

    def elected(self, group_id: bytes, role: str, term: int) -> bytes | None:
        """Whom an election chose for the term (recalled or not)."""
        if role == "coordinator":
            return self.groups.group(group_id).elected.get(term)
        terms = self._terms.get((group_id, role))
        return None if terms is None else terms.elected.get(term)

    def record_election(self, group_id: bytes, role: str, term: int, key: bytes) -> None:
        if role == "coordinator":
            self.groups.record_election(group_id, term, key)
        else:
            self._terms.setdefault((group_id, role), _Terms()).elected[term] = key

    def record_recall(self, group_id: bytes, role: str, term: int, key: bytes) -> None:
        if role == "coordinator":
            self.groups.record_recall(group_id, term, key)
        else:
            terms = self._terms.setdefault((group_id, role), _Terms())
            terms.recalled.setdefault(term, set()).add(key)

    def describe(self, group_id: bytes, at_ms: int) -> dict[str, Any]:
        """Each role of the group at ``at_ms``: its holder (None: vacant), and
        the term's number and span, JSON-ready."""
        roles: dict[str, Any] = {}
        for role in ("coordinator", *TERM_MONTHS_RULE):
            term = self.term_at(group_id, role, at_ms)
            since, until = self.term_span(group_id, role, term)
            holder = self.holder(group_id, role, at_ms)
            roles[role] = {
                "holder": None if holder is None else holder.hex(),
                "term": term,
                "since_ms": since,
                "until_ms": until,
            }
        return roles
