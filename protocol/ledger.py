"""The transparency ledger: every sol a group budgets, allocates, spends,
receives or owes, in signed entries anyone can add up
(specs/accountability.md section 6).

Theory of operation
-------------------
Only a group's *steward* of the moment (protocol/roles.py) writes its
ledger, and only money a ballot decided may be allocated to a budget line,
so that custody never becomes ownership. Entries are append-only: a
mistake is corrected by another entry, and both stay.

The protocol derives *flags* from the entries, the same on every node
because the fold reads the entries in key order: spending beyond a line's
allocation, spending on a line with no allocation, payments split to stay
under a line's threshold, and a payee who is the steward. A flag is not a
refusal: the payment happened (the document says so); the flag tells the
members where to look, and a recall (protocol/recall.py) is one motion
away.

An external grant opens a ratification ballot of the whole group by
itself (protocol/ballots.py ``open_derived``), and its line cannot be spent
from until the ballot decides to ratify. A declared cooperative surplus
owes the charter's ``treasury_pct`` to the solidarity treasury; what is
owed and not paid shows.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol.ballots import Ballots
from protocol.errors import Reason, Rejected
from protocol.event import SignedEvent
from protocol.groups import DAY_MS, Groups
from protocol.power_map import normal_form
from protocol.roles import Roles

#: Payments to one payee from one line within this window are added up
#: against the line's ``split_threshold``.
SPLIT_WINDOW_MS = 30 * DAY_MS
#: The options of a grant's ratification ballot: the first ratifies.
RATIFY_OPTIONS = ("ratify", "reject")


@dataclass(slots=True)
class _Window:
    """A payee's payments under a line's split threshold within the last
    ``SPLIT_WINDOW_MS``, oldest first, and their sum: the fold runs in key
    order, so older ones leave from the left, and the split rule costs the
    same however many payments the line made."""

    payments: deque[tuple[int, int, bytes]] = field(default_factory=deque)
    total: int = 0

    def recent(self, at_ms: int) -> int:
        """Forget what is too old at ``at_ms``; the sum of the rest."""
        while self.payments and at_ms - self.payments[0][0] >= SPLIT_WINDOW_MS:
            self.total -= self.payments.popleft()[1]
        return self.total

    def add(self, at_ms: int, amount: int, event_id: bytes) -> None:
        self.payments.append((at_ms, amount, event_id))
        self.total += amount


@dataclass(slots=True)
class Line:
    """A budget line of a group, as the fold holds it."""

    id: bytes
    group: bytes
    name: str
    currency: str
    split_threshold: int | None
    allocated: int = 0
    spent: int = 0
    #: The grants that fund the line (their ids: their ratification ballots).
    grants: list[bytes] = field(default_factory=list)
    #: payee -> their recent payments under the line's split threshold.
    payments: dict[str, _Window] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Flag:
    """Something in the accounts that members should look at."""

    kind: str  # over_allocation | no_allocation | split_payment | payee_is_steward
    event: bytes
    group: bytes
    line: bytes
    #: What shows it, as numbers and ids (specs/accountability.md 6.7).
    facts: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "event": self.event.hex(),
            "group": self.group.hex(),
            "line": self.line.hex(),
            **self.facts,
        }


@dataclass(slots=True)
class _Accounts:
    """One group's money, by currency."""

    income: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    spent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    surplus: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    owed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Ledger:
    """Every group's budget lines, entries, balances and flags."""

    def __init__(self, groups: Groups, roles: Roles, ballots: Ballots) -> None:
        self.groups = groups
        self.roles = roles
        self.ballots = ballots
        self.lines: dict[bytes, Line] = {}
        self.grants: dict[bytes, SignedEvent] = {}
        self.flags: list[Flag] = []
        self._accounts: dict[bytes, _Accounts] = {}

    # -- the fold --

    def apply_budget(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_steward(event)
        if any(
            line.group == event.group and line.name == body["line"] for line in self.lines.values()
        ):
            raise Rejected(Reason.DUPLICATE_LINE, f"the group has a line {body['line']!r}")
        self.lines[event.id] = Line(
            event.id, event.group, body["line"], body["currency"], body.get("split_threshold")
        )

    def apply_allocate(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_steward(event)
        line = self._line(event)
        ballot = self.ballots.ballot(body["ballot"])
        if ballot.scope != event.group:
            raise Rejected(Reason.UNKNOWN_BALLOT, "not a ballot of the group")
        if self.ballots.decided(ballot.id) != body["option"]:
            raise Rejected(Reason.NOT_DECIDED, "the ballot did not decide that option")
        line.allocated += body["amount"]

    def apply_spend(self, event: SignedEvent) -> None:
        body = event.event.body
        steward = self._require_steward(event)
        line = self._line(event)
        self._require_currency(line, body["currency"])
        pending = [g for g in line.grants if g not in self._ratified(line)]
        if pending:
            raise Rejected(
                Reason.NOT_RATIFIED, f"grant {pending[0].hex()} to the line is not ratified"
            )
        amount = body["amount"]
        line.spent += amount
        self._of(event.group).spent[line.currency] += amount
        self._flag_spend(event, line, steward)

    def apply_income(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_steward(event)
        self._of(event.group).income[body["currency"]] += body["amount"]

    def apply_grant(self, event: SignedEvent) -> None:
        """An external grant: its ratification ballot opens by itself, for
        the charter's ``ratify_days``; until it ratifies, its line is frozen."""
        body = event.event.body
        self._require_steward(event)
        line = self._line(event)
        self._require_currency(line, body["currency"])
        days = self.groups.group(event.group).rules["ratify_days"]
        self.ballots.open_derived(
            event.id, event.group, event.author, event.ts, days, RATIFY_OPTIONS, {"grant": event.id}
        )
        line.grants.append(event.id)
        self.grants[event.id] = event

    def apply_surplus(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_steward(event)
        accounts = self._of(event.group)
        share = self.groups.group(event.group).rules["treasury_pct"]
        accounts.surplus[body["currency"]] += body["amount"]
        accounts.owed[body["currency"]] += body["amount"] * share // 100

    def apply_treasury(self, event: SignedEvent) -> None:
        body = event.event.body
        self._require_steward(event)
        self._of(event.group).paid[body["currency"]] += body["amount"]

    # -- reading --

    def describe(self, group_id: bytes) -> dict[str, Any]:
        """A group's accounts, JSON-ready: its lines (allocated, spent,
        available, grants and whether each is ratified), balances and the
        solidarity treasury by currency, and its flags."""
        accounts = self._accounts.get(group_id) or _Accounts()
        granted: dict[str, int] = defaultdict(int)
        lines = []
        for line in (line for line in self.lines.values() if line.group == group_id):
            ratified = self._ratified(line)
            granted[line.currency] += self._granted(ratified)
            funded = line.allocated + self._granted(ratified)
            lines.append(
                {
                    "id": line.id.hex(),
                    "name": line.name,
                    "currency": line.currency,
                    "split_threshold": line.split_threshold,
                    "allocated": line.allocated,
                    "granted": funded - line.allocated,
                    "spent": line.spent,
                    "available": funded - line.spent,
                    "grants": [{"id": g.hex(), "ratified": g in ratified} for g in line.grants],
                }
            )
        currencies = sorted(
            {*accounts.income, *accounts.spent, *accounts.owed, *accounts.paid, *granted}
        )
        return {
            "group": group_id.hex(),
            "lines": sorted(lines, key=lambda line: (line["name"], line["id"])),
            "balances": {
                c: accounts.income[c] + granted[c] - accounts.spent[c] - accounts.paid[c]
                for c in currencies
            },
            "treasury": {
                c: {
                    "surplus": accounts.surplus[c],
                    "owed": accounts.owed[c],
                    "paid": accounts.paid[c],
                    "unpaid": max(0, accounts.owed[c] - accounts.paid[c]),
                }
                for c in currencies
                if accounts.owed[c] or accounts.paid[c]
            },
            "flags": [flag.describe() for flag in self.flags if flag.group == group_id],
        }

    def describe_all(self) -> dict[str, Any]:
        """Every group with ledger entries, by id: the state snapshot's part."""
        groups = {line.group for line in self.lines.values()} | set(self._accounts)
        return {group.hex(): self.describe(group) for group in sorted(groups)}

    # -- checks and flags --

    def _require_steward(self, event: SignedEvent) -> bytes:
        """Only the group's steward at ``ts`` writes its ledger."""
        self.groups.group(event.group)
        steward = self.roles.holder(event.group, "steward", event.ts)
        if steward is None or steward != event.author:
            raise Rejected(Reason.NOT_STEWARD, "only the group's steward writes its ledger")
        return steward

    def _line(self, event: SignedEvent) -> Line:
        line = self.lines.get(event.event.body["line"])
        if line is None or line.group != event.group:
            raise Rejected(Reason.UNKNOWN_LINE, "no such budget line in the group")
        return line

    @staticmethod
    def _require_currency(line: Line, currency: str) -> None:
        if currency != line.currency:
            raise Rejected(
                Reason.WRONG_CURRENCY, f"the line {line.name!r} is kept in {line.currency}"
            )

    def _ratified(self, line: Line) -> list[bytes]:
        """The line's grants whose ratification ballot decided to ratify."""
        return [grant for grant in line.grants if self.ballots.decided(grant) == 0]

    def _granted(self, grants: list[bytes]) -> int:
        """What ``grants`` bring, in their line's currency."""
        return sum(self.grants[grant].event.body["amount"] for grant in grants)

    def _of(self, group_id: bytes) -> _Accounts:
        return self._accounts.setdefault(group_id, _Accounts())

    def _flag_spend(self, event: SignedEvent, line: Line, steward: bytes) -> None:
        body: Mapping[str, Any] = event.event.body
        amount, payee = body["amount"], _payee(body)
        # Every grant of the line is ratified here (apply_spend's step 5).
        funded = line.allocated + self._granted(line.grants)
        flags: list[tuple[str, dict[str, Any]]] = []
        if funded == 0:
            flags.append(("no_allocation", {}))
        elif line.spent > funded:
            flags.append(("over_allocation", {"spent": line.spent, "funded": funded}))
        threshold = line.split_threshold
        if threshold is not None and amount < threshold:
            window = line.payments.setdefault(payee, _Window())
            before = window.recent(event.ts)
            if window.payments and before < threshold <= before + amount:
                together = [paid_id.hex() for _, _, paid_id in window.payments]
                together.append(event.id.hex())
                flags.append(("split_payment", {"payments": together, "total": before + amount}))
            window.add(event.ts, amount, event.id)
        if body.get("payee_key") == steward:
            flags.append(("payee_is_steward", {}))
        self.flags.extend(Flag(kind, event.id, event.group, line.id, f) for kind, f in flags)


def _payee(body: Mapping[str, Any]) -> str:
    """Who was paid, for the split rule: their key if given, else their
    name's normal form (the power map's: case, width and spacing ignored)."""
    key: bytes | None = body.get("payee_key")
    if key is not None:
        return key.hex()
    return normal_form(body["payee"])
