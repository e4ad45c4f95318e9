"""The story ``ayllu demo`` tells, act by act: a network of its own, its
registrar, people, groups and nodes; a proposal deliberated and put to a
secret ballot counted up the fractal; a steward elected, a payment the
ledger flags, and the steward recalled.

Every act is made as a member's or a registrar's own device makes it: on
a *desk* (a data directory that is not run as a node) with the functions
the command line uses (node/governance.py, node/registrar.py,
node/accountability.py), so that the demo shows the real paths and no
shortcut of its own. The caller (node/cli_demo.py) submits each act to the
node of the group it belongs to and watches the network carry it.

The story's clock starts ``DAYS_BEHIND`` days before now and moves on as
the acts need it (a ballot stays open for days, a recall gathers support),
so weeks of a community's life take a minute; it never passes the real
time, which nodes would refuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nacl.utils
from nacl.signing import SigningKey

from node import accountability, governance, protected_reports, registrar
from node.governance import Published
from node.keyfile import create_key_file
from protocol.event import SignedEvent
from protocol.genesis import Genesis
from protocol.groups import DAY_MS
from protocol.uniqueness import TAG_KEY_SIZE
from storage.state import NetworkStore
from storage.vault import KEY_SIZE, VaultKey

#: How far back the story's clock starts.
DAYS_BEHIND = 40
HOUR_MS = 3_600_000
LANGS = ("ay", "en", "es", "qu")
#: The charters' rules: those that ``ayllu genesis create`` defaults to.
RULES = {
    "support_pct": 20,
    "quorum_pct": 50,
    "threshold_pct": 50,
    "term_days": 90,
    "merit_days": 30,
}
#: Names for the groups below the root, by level (then numbered).
REGIONS = ("Puno", "Cusco", "Ayacucho", "Apurímac", "Huancavelica")
GIVEN = (
    "Rosa",
    "Juan",
    "Lucía",
    "Mario",
    "Sisa",
    "Illari",
    "Nina",
    "Wayra",
    "Amaru",
    "Killa",
    "Teresa",
    "Pedro",
    "Yupanqui",
    "Inés",
    "Kusi",
    "Rumi",
    "Elena",
    "Tupac",
    "Carmen",
    "Willka",
)
FAMILY = ("Mamani", "Quispe", "Condori", "Huamán", "Choque", "Apaza", "Ccama", "Flores", "Ticona")


@dataclass(frozen=True)
class Member:
    """A person of the story, with the member key their device holds."""

    name: str
    key: SigningKey
    base: bytes
    key_file: Path

    @property
    def public(self) -> bytes:
        return bytes(self.key.verify_key)


@dataclass
class Fractal:
    """The groups of the story: each one's level, name, children and the
    key that acts for it; each base group's members, founder first."""

    root: bytes
    levels: dict[bytes, int] = field(default_factory=dict)
    names: dict[bytes, str] = field(default_factory=dict)
    children: dict[bytes, list[bytes]] = field(default_factory=dict)
    actors: dict[bytes, SigningKey] = field(default_factory=dict)
    members: dict[bytes, list[Member]] = field(default_factory=dict)

    def at_level(self, level: int) -> list[bytes]:
        return [group for group, at in self.levels.items() if at == level]

    def bases(self) -> list[bytes]:
        return self.at_level(1)

    def people(self) -> list[Member]:
        return [member for base in self.bases() for member in self.members[base]]


@dataclass(frozen=True)
class Act:
    """An act of the story, for the node of ``group``; that node must hold
    its refs, and the events ``after``, before it can judge it."""

    step: str
    group: bytes
    event: SignedEvent
    after: tuple[bytes, ...] = ()


def root_charter(levels: int) -> dict[str, object]:
    return {"name": "Ayllu demo", "langs": list(LANGS), "level": levels, "rules": dict(RULES)}


def start_ms(now_ms: int) -> int:
    """Where the story's clock starts: ``DAYS_BEHIND`` days ago, on the hour."""
    return (now_ms - DAYS_BEHIND * DAY_MS) // HOUR_MS * HOUR_MS


def group_sizes(count: int) -> list[int]:
    """3, 4 or 5 people per base group, as micro-groups are."""
    return [3 + (i * 2) % 3 for i in range(count)]


@dataclass
class Desk:
    """The devices of the story's people and registrar, as one store."""

    store: NetworkStore
    root: Path
    founder: SigningKey
    registrar: SigningKey
    now: int
    tag_key: bytes = field(default_factory=lambda: nacl.utils.random(TAG_KEY_SIZE))
    vault_key: VaultKey = field(default_factory=lambda: VaultKey(nacl.utils.random(KEY_SIZE)))
    acts: list[Act] = field(default_factory=list)
    _registered: int = 0

    @property
    def genesis(self) -> Genesis:
        return self.store.genesis

    def advance(self, ms: int) -> int:
        self.now += ms
        return self.now

    async def _act(
        self, step: str, group: bytes, act: Awaitable[Published], after: Sequence[bytes] = ()
    ) -> SignedEvent:
        """Make an act, and note it for the node of ``group``."""
        return self._note(step, group, (await act).event, after)

    def _note(
        self, step: str, group: bytes, event: SignedEvent, after: Sequence[bytes] = ()
    ) -> SignedEvent:
        self.acts.append(Act(step, group, event, tuple(after)))
        return event

    # -- the network and its people --

    async def register(self, name: str, member: bytes) -> SignedEvent:
        """The registrar certifies ``member`` for a person (Code 1 kept in
        the registrar's vault, on the desk)."""
        self._registered += 1
        person = registrar.Person(name, "PE", "DNI", f"4{self._registered:07d}")
        registration = await registrar.register(
            self.store,
            registrar.vault_path(self.root),
            self.vault_key,
            self.registrar,
            self.tag_key,
            person,
            member,
            now_ms=self.now,
        )
        return registration.published.event

    async def build(
        self,
        levels: int,
        fanout: int,
        node_keys: Callable[[bytes], Sequence[bytes]],
        progress: Callable[[int], None] = lambda _: None,
    ) -> Fractal:
        """Register the people, found and fill ``fanout`` base groups per
        group down from the root (``levels`` levels in all), place each
        group under its parent, and name each group's nodes
        (``node_keys(group)``, asked once the group exists). ``progress``
        hears of each person registered."""
        fractal = Fractal(self.genesis.network_id)
        net = fractal.root
        fractal.levels[net], fractal.names[net] = levels, "Ayllu demo"
        fractal.actors[net] = self.founder
        await self.register("Fundadora Demo", bytes(self.founder.verify_key))
        names = _people()
        sizes = iter(group_sizes(fanout ** (levels - 1)))

        async def found(level: int, name: str) -> bytes:
            if level == 1:
                people = [await self._person(next(names), progress) for _ in range(next(sizes))]
                founder = people[0][1]
                group = (
                    await governance.found_group(
                        self.store,
                        founder,
                        name=name,
                        level=1,
                        langs=LANGS,
                        rules=RULES,
                        now_ms=self.now,
                    )
                ).event.id
                fractal.members[group] = [Member(n, k, group, f) for n, k, f in people]
                for member in fractal.members[group][1:]:
                    await governance.apply_for_membership(
                        self.store, member.key, group, now_ms=self.now
                    )
                    await governance.admit_member(
                        self.store, founder, group, member.public, now_ms=self.now
                    )
                fractal.actors[group], fractal.children[group] = founder, []
            else:
                kids = [await found(level - 1, f"{name} {i + 1}") for i in range(fanout)]
                actor = fractal.actors[kids[0]]
                group = (
                    await governance.found_group(
                        self.store,
                        actor,
                        name=name,
                        level=level,
                        langs=LANGS,
                        rules=RULES,
                        now_ms=self.now,
                    )
                ).event.id
                fractal.actors[group], fractal.children[group] = actor, kids
                for kid in kids:
                    await self.place(fractal, kid, group)
            fractal.levels[group], fractal.names[group] = level, name
            return group

        fractal.children[net] = []
        for i in range(fanout):
            name = REGIONS[i] if i < len(REGIONS) else f"Región {i + 1}"
            child = await found(levels - 1, name)
            await self.place(fractal, child, net)
            fractal.children[net].append(child)
        for group in fractal.levels:
            await governance.name_nodes(
                self.store, fractal.actors[group], group, node_keys(group), now_ms=self.now
            )
        return fractal

    async def _person(
        self, name: str, progress: Callable[[int], None]
    ) -> tuple[str, SigningKey, Path]:
        """A person's member key, in a key file of their own, and its
        certificate."""
        key_file = self.root.parent / "members" / f"member-{self._registered:03d}.key"
        key_file.parent.mkdir(mode=0o700, exist_ok=True)
        key = create_key_file(key_file)
        await self.register(name, bytes(key.verify_key))
        progress(1)
        return name, key, key_file

    async def place(self, fractal: Fractal, child: bytes, parent: bytes) -> None:
        await governance.apply_to_parent(
            self.store, fractal.actors[child], child, parent, now_ms=self.now
        )
        await governance.admit_child(
            self.store, fractal.actors[parent], parent, child, now_ms=self.now
        )

    # -- deliberation and the ballot --

    async def deliberate(self, fractal: Fractal) -> SignedEvent:
        """A proposal to the whole network, its translation to Quechua and
        its confirmation, an amendment, comments, and the support of one
        member in five (the charter's support_pct) from across the fractal."""
        people = fractal.people()
        author, translator, checker, amender, *rest = people
        step = "deliberation"
        proposal = await self._act(
            step,
            author.base,
            governance.propose(
                self.store,
                author.key,
                fractal.root,
                lang="es",
                title="Agua limpia para cada ayllu",
                text="Cada comunidad instalará un filtro de agua y formará a dos personas para "
                "mantenerlo; los fondos se reparten según el número de familias.",
                now_ms=self.now,
            ),
        )
        translation = await self._act(
            step,
            translator.base,
            governance.translate(
                self.store,
                translator.key,
                proposal.id,
                lang="qu",
                title="Sapa ayllupaq chuya yaku",
                text="Sapa llaqta yaku chuyanchananta churanqa, iskay runakunata yachachinqa.",
                now_ms=self.now,
            ),
        )
        await self._act(
            step,
            checker.base,
            governance.confirm_translation(
                self.store, checker.key, translation.id, now_ms=self.now
            ),
        )
        await self._act(
            step,
            amender.base,
            governance.amend(
                self.store,
                amender.key,
                proposal.id,
                lang="es",
                title="Agua limpia para cada ayllu, con rendición de cuentas",
                text="Igual, y cada comunidad publica lo gastado en su libro de cuentas.",
                now_ms=self.now,
            ),
        )
        for commenter, text in zip(rest[:3], _COMMENTS, strict=False):
            await self._act(
                step,
                commenter.base,
                governance.comment(
                    self.store,
                    commenter.key,
                    proposal.id,
                    lang=text[0],
                    text=text[1],
                    now_ms=self.now,
                ),
            )
        await self._support(fractal, proposal, "support")
        return proposal

    async def _support(self, fractal: Fractal, proposal: SignedEvent, step: str) -> None:
        """Support by one member in five (the charter's support_pct), from
        across the fractal."""
        people = fractal.people()
        needed = -(-RULES["support_pct"] * len(people) // 100)
        for supporter in people[::5][:needed]:
            await self._act(
                step,
                supporter.base,
                governance.support(self.store, supporter.key, proposal.id, now_ms=self.now),
            )

    async def open_ballot(self, fractal: Fractal, proposal: SignedEvent) -> SignedEvent:
        """The ballot on the proposal, counted in the base groups; opened at
        the root by its founder, open for a week from tomorrow."""
        self.advance(DAY_MS)
        return await self._ballot(
            fractal, proposal, "¿Aprobamos la propuesta?", self.now + DAY_MS, self.now + 8 * DAY_MS
        )

    async def open_live_ballot(
        self, fractal: Fractal, now_ms: int, lead_s: int, open_s: int
    ) -> SignedEvent:
        """A proposal of today and its ballot, for a visitor to vote on:
        its rings frozen at once, open ``lead_s`` seconds from ``now_ms``
        for ``open_s`` seconds."""
        self.now = now_ms
        author = fractal.people()[-1]
        proposal = await self._act(
            "live ballot",
            author.base,
            governance.propose(
                self.store,
                author.key,
                fractal.root,
                lang="es",
                title="Asamblea regional en Juliaca",
                text="La próxima asamblea de todos los grupos se hace en Juliaca, en marzo.",
                now_ms=self.now,
            ),
        )
        await self._support(fractal, proposal, "live ballot")
        opens = now_ms + lead_s * 1000
        return await self._ballot(
            fractal, proposal, "¿Hacemos la asamblea en Juliaca?", opens, opens + open_s * 1000
        )

    async def _ballot(
        self, fractal: Fractal, proposal: SignedEvent, question: str, opens: int, closes: int
    ) -> SignedEvent:
        """``ballot.open`` at the root by its founder, once the root's node
        holds the proposal's support, and each base group's ring."""
        supports = [
            act.event.id
            for act in self.acts
            if act.event.kind == "proposal.support"
            and act.event.event.body["proposal"] == proposal.id
        ]
        ballot = await self._act(
            "ballot",
            fractal.root,
            governance.open_ballot(
                self.store,
                self.founder,
                fractal.root,
                question=question,
                lang="es",
                options=["sí", "no"],
                opens=opens,
                closes=closes,
                counting_level=1,
                proposal=proposal.id,
                now_ms=self.now,
            ),
            supports,
        )
        for base in fractal.bases():
            await self._act(
                "rings",
                base,
                governance.freeze_ring(
                    self.store, fractal.members[base][0].key, ballot.id, base, now_ms=self.now
                ),
            )
        return ballot

    async def vote(
        self,
        fractal: Fractal,
        ballot: SignedEvent,
        progress: Callable[[int], None],
        *,
        at_ms: int | None = None,
        leave_out: Member | None = None,
    ) -> None:
        """Each member votes in secret at their base group's node (at
        ``at_ms``, else an hour into the ballot): most say yes, some no,
        one in eleven stays home, and ``leave_out`` votes by themselves."""
        self.now = ballot.event.body["opens"] + HOUR_MS if at_ms is None else at_ms
        for n, member in enumerate(fractal.people()):
            if n % 11 != 10 and member != leave_out:
                cast = await governance.cast_vote(
                    self.store, member.key, ballot.id, [0 if n % 10 < 7 else 1], now_ms=self.now
                )
                self._note("votes", member.base, cast.published.event)
            progress(1)

    async def count(
        self, fractal: Fractal, ballot: SignedEvent, *, at_ms: int | None = None
    ) -> dict[bytes, SignedEvent]:
        """Each base group's count, by its founder, once the ballot closed
        (at ``at_ms``, else an hour after)."""
        self.now = ballot.event.body["closes"] + HOUR_MS if at_ms is None else at_ms
        counts = {}
        for base in fractal.bases():
            counts[base] = await self._act(
                "counts",
                base,
                governance.count_result(
                    self.store, fractal.members[base][0].key, ballot.id, base, now_ms=self.now
                ),
            )
        return counts

    async def sum_up(self, fractal: Fractal, ballot: SignedEvent, group: bytes) -> SignedEvent:
        """``group``'s sum of its children's results, by whoever acts for it."""
        return await self._act(
            f"sums at level {fractal.levels[group]}",
            group,
            governance.sum_result(
                self.store, fractal.actors[group], ballot.id, group, now_ms=self.now
            ),
        )

    # -- a steward, a flagged payment and a recall --

    async def elect_steward(self, fractal: Fractal, base: bytes) -> Member:
        """The base group elects its steward (its second member wins)."""
        members = fractal.members[base]
        self.advance(DAY_MS)
        candidates = members[1:3]
        election = await self._act(
            "steward election",
            base,
            governance.open_ballot(
                self.store,
                members[0].key,
                base,
                question="¿Quién llevará las cuentas?",
                lang="es",
                options=[c.name for c in candidates],
                opens=self.now + HOUR_MS,
                closes=self.now + 2 * DAY_MS,
                counting_level=1,
                candidates=[c.public for c in candidates],
                role="steward",
                now_ms=self.now,
            ),
        )
        await self._decide(members, election.id, [0] * len(members), "steward election")
        return candidates[0]

    async def flagged_payment(self, base: bytes, steward: Member) -> SignedEvent:
        """A budget line, and a payment from it to the steward herself with
        nothing allocated: the ledger flags it, twice."""
        self.advance(DAY_MS)
        line = await self._act(
            "ledger",
            base,
            accountability.ledger_entry(
                self.store,
                steward.key,
                "ledger.budget",
                {"line": "Filtros de agua", "currency": "PEN"},
                group=base,
                now_ms=self.now,
            ),
        )
        self.advance(DAY_MS)
        body = {
            "payee": steward.name,
            "payee_key": steward.public,
            "amount": 120_000,
            "purpose": "Viáticos",
            "currency": "PEN",
            "document": hashlib.sha256(b"recibo 0001").digest(),
        }
        return await self._act(
            "ledger",
            base,
            accountability.ledger_entry(
                self.store, steward.key, "ledger.spend", body, line=line.id, now_ms=self.now
            ),
        )

    async def recall(self, fractal: Fractal, base: bytes, steward: Member) -> SignedEvent:
        """A motion to recall the steward, its support, and the recall
        ballot it opens, which the group carries."""
        members = [m for m in fractal.members[base] if m != steward]
        self.advance(DAY_MS)
        motion = await self._act(
            "recall",
            base,
            accountability.put_motion(
                self.store,
                members[0].key,
                base,
                role="steward",
                holder=steward.public,
                reason="Se pagó a sí misma sin asignación aprobada.",
                lang="es",
                now_ms=self.now,
            ),
        )
        for supporter in members[1:]:
            if self.store.state.recalls.motions[motion.id].qualified is not None:
                break
            await self._act(
                "recall",
                base,
                accountability.support_motion(
                    self.store, supporter.key, motion.id, now_ms=self.now
                ),
            )
        choices = [1 if m == steward else 0 for m in fractal.members[base]]
        await self._decide(fractal.members[base], motion.id, choices, "recall")
        return motion

    async def oversee(self, fractal: Fractal, base: bytes) -> SignedEvent:
        """Another base group is appointed to oversee ``base``; it publishes
        its box key, a report ring of the whole network is frozen, and a
        member files a protected report, which the oversight group reads
        and answers. Returns the report."""
        overseer = next(group for group in fractal.bases() if group != base)
        self.advance(DAY_MS)
        step = "oversight"
        await self._act(
            step,
            base,
            accountability.appoint_oversight(
                self.store, fractal.actors[base], base, overseer, now_ms=self.now
            ),
        )
        await self._act(
            step,
            overseer,
            protected_reports.publish_box_key(
                self.store, fractal.actors[overseer], overseer, now_ms=self.now
            ),
        )
        await self._act(
            step,
            fractal.root,
            protected_reports.freeze_ring(self.store, self.founder, fractal.root, now_ms=self.now),
        )
        reporter = fractal.members[base][-1]
        message = protected_reports.message_of(
            "La tesorera pidió una comisión a un proveedor.", "es", None, ()
        )
        published, _receipt = await protected_reports.file_report(
            self.store, reporter.key, overseer, message, now_ms=self.now
        )
        report = self._note(step, base, published.event)
        answer = protected_reports.message_of("Lo estamos revisando.", "es", None, ())
        await self._act(
            step,
            overseer,
            protected_reports.reply(
                self.store,
                fractal.members[overseer][0].key,
                report.id,
                "investigating",
                answer,
                now_ms=self.now,
            ),
        )
        return report

    async def _decide(
        self, people: Sequence[Member], ballot_id: bytes, choices: Sequence[int], step: str
    ) -> None:
        """Ring, votes and count of a ballot counted in the base group of
        ``people`` alone, by its first member."""
        base = people[0].base
        ballot = self.store.state.ballots.ballots[ballot_id]
        await self._act(
            step,
            base,
            governance.freeze_ring(self.store, people[0].key, ballot_id, base, now_ms=self.now),
        )
        self.now = ballot.opens + 1
        for person, choice in zip(people, choices, strict=True):
            cast = await governance.cast_vote(
                self.store, person.key, ballot_id, [choice], now_ms=self.now
            )
            self._note(step, base, cast.published.event)
        self.now = ballot.closes + 1
        await self._act(
            step,
            base,
            governance.count_result(self.store, people[0].key, ballot_id, base, now_ms=self.now),
        )


_COMMENTS = (
    ("qu", "Allinmi, yakuqa kawsaymi."),
    ("ay", "Walikiwa, umaxa jakañawa."),
    ("es", "De acuerdo, pero que el filtro lo elija cada comunidad."),
)


def _people() -> Iterator[str]:
    """Names for the story's people, none twice."""
    n = 0
    while True:
        yield f"{GIVEN[n % len(GIVEN)]} {FAMILY[(n // len(GIVEN) + n) % len(FAMILY)]}"
        n += 1
