"""``ayllu demo``: a whole fractal on this machine, and a story told on it.

It builds a network of its own (node/demo_story.py), starts one node per
group as ``ayllu run`` processes on loopback (node/loopback.py), and
carries the story's acts to the nodes of the groups that make them, each
once the node holds what the act refers to, so that what is shown is the
network at work: gossip along the fractal, counts checked against the
votes each node holds, sums up to the root. Progress goes to stderr, the
summary to stdout (JSON with ``--json``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import trio
from nacl.signing import SigningKey

from node import progress
from node.cli_common import now_ms
from node.datadir import DataDir
from node.demo_story import Desk, Fractal, Member, group_sizes, root_charter, start_ms
from node.ingest import ingest_raw
from node.loopback import Loopback, NodeProcess, api_of, runtime_of
from protocol.event import SignedEvent
from protocol.genesis import make_genesis
from storage.interface import MAX_LIMIT, Key
from storage.state import NetworkStore, open_network_store

#: Seconds the network gets to carry an act to where the next one needs it.
CARRY_TIMEOUT_S = 120.0


@click.command("demo")
@click.option(
    "--fanout",
    type=click.IntRange(2, 5),
    default=5,
    show_default=True,
    help="Groups under each group (the fractal's 5).",
)
@click.option(
    "--levels",
    type=click.IntRange(2, 4),
    default=3,
    show_default=True,
    help="Levels of groups, the root's included: 3 with fanout 5 is 1 + 5 + 25 nodes.",
)
@click.option(
    "--nodes-per-process",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Nodes each 'ayllu run' process serves (more saves memory on a small machine).",
)
@click.option(
    "--dir",
    "workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's data here (must not exist yet) rather than in a temporary directory.",
)
@click.option(
    "--keep",
    is_flag=True,
    help="Keep the nodes running after the story, until Ctrl-C, with a ballot of today to "
    "vote on in the web app.",
)
@click.option(
    "--live-seconds",
    type=click.IntRange(10, 7 * 86_400),
    default=300,
    show_default=True,
    help="With --keep: how long the ballot of today stays open.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def demo(
    fanout: int,
    levels: int,
    nodes_per_process: int,
    workdir: Path | None,
    keep: bool,
    live_seconds: int,
    as_json: bool,
) -> None:
    """Start a local fractal of nodes and tell a community's story on it.

    One node per group (by default 1 + 5 + 25 = 31, as processes on
    127.0.0.1, data in a temporary directory): 3 to 5 registered members
    per base group; a proposal deliberated (a translation, an amendment,
    comments, support) and put to a secret ballot, each member's vote
    ring-signed, counted in the base groups and summed up to the root; a
    steward elected, a payment the ledger flags, and the steward recalled.
    It prints the results per level and the timings, and the address of a
    node's web app. With --keep the nodes stay up until Ctrl-C, and a
    ballot of today opens in the web app for a member whose key file it
    names; the other members vote, and once it closes, it is counted and
    summed up to the root like the first. Nothing
    leaves this machine: no mDNS, no bootstrap peer.

    The story's clock starts 40 days ago so that weeks of votes and
    recalls take a minute; its events are real, signed and checked by
    every node.

    JSON output (--json): network, nodes, processes, members, dir, web,
    steps (name, seconds), proposal, ballot (levels: level, voters,
    eligible, counts per option, groups), decided_option, flags, recall
    (motion, decided_option), report (id, status), seconds.
    """
    if workdir is not None and workdir.exists():
        raise click.BadParameter(f"{workdir} exists already", param_hint="--dir")
    root = workdir or Path(tempfile.mkdtemp(prefix="ayllu-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        summary = trio.run(
            _demo, root, fanout, levels, nodes_per_process, live_seconds if keep else 0
        )
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
        summary = None
    finally:
        if workdir is None and not keep:
            shutil.rmtree(root, ignore_errors=True)
    if summary is not None and not keep:
        _print_summary(summary, as_json)


@dataclass
class Run:
    """The demo under way: its desk, fractal, nodes and timings."""

    root: Path
    desk: Desk
    loopback: Loopback
    fractal: Fractal = field(init=False)
    dirs: dict[bytes, DataDir] = field(default_factory=dict)
    steps: list[tuple[str, float]] = field(default_factory=list)
    submitted: int = 0

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        with progress.step(name, self.steps):
            yield

    async def carry(self, show: Callable[[int], None] = lambda _: None) -> None:
        """Submit the acts not yet submitted, each to the node of its group
        once that node holds what it refers to (for a sum: has applied the
        results it adds up)."""
        for act in self.desk.acts[self.submitted :]:
            node, event = self.dirs[act.group], act.event
            if event.kind == "result.sum":
                ballot = event.event.body["ballot"]
                parts = event.event.body["parts"]
                await self.loopback.wait_applied(node, ballot, parts, CARRY_TIMEOUT_S)
            needed = [(node, ref) for ref in (*event.refs, *act.after)]
            await self.loopback.wait_held(needed, CARRY_TIMEOUT_S)
            if event.kind == "ballot.ring":
                # Held is not applied: a ballot that came before the
                # supports it needs is refused until they come too.
                ballot = event.event.body["ballot"].hex()
                await self.loopback.wait_found(node, f"/v1/ballots/{ballot}", CARRY_TIMEOUT_S)
            await self.loopback.submit(node, event.raw)
            self.submitted += 1
            show(1)


async def _demo(
    root: Path, fanout: int, levels: int, per_process: int, live_seconds: int
) -> dict[str, Any]:
    """The story, and with ``live_seconds`` (--keep) a ballot of today
    open that long, then the nodes kept up until Ctrl-C."""
    began = time.monotonic()
    founder, registrar = SigningKey.generate(), SigningKey.generate()
    story_start = start_ms(now_ms())
    genesis = make_genesis(
        name="ayllu demo",
        ts=story_start,
        root=root_charter(levels),
        founder=bytes(founder.verify_key),
        registrars=[bytes(registrar.verify_key)],
        quorum=1,
    )
    desk_dir = DataDir(root / "desk")
    await desk_dir.initialize(genesis)
    loopback = Loopback(root / "logs", sync_interval_s=5.0)
    loopback.root.mkdir(exist_ok=True)
    try:
        async with open_network_store(desk_dir.store_path, genesis) as store:
            run = Run(root, Desk(store, desk_dir.root, founder, registrar, story_start), loopback)
            summary = await _tell(run, fanout, levels, per_process)
            summary["seconds"] = round(time.monotonic() - began, 1)
            if live_seconds:
                _print_summary(summary, as_json=False)
                await _live_ballot(run, live_seconds)
                click.echo("The nodes run until Ctrl-C.", err=True)
                await trio.sleep_forever()
        return summary
    finally:
        with trio.CancelScope(shield=True):
            await loopback.close()


async def _tell(run: Run, fanout: int, levels: int, per_process: int) -> dict[str, Any]:
    desk, loopback = run.desk, run.loopback
    groups = sum(fanout**level for level in range(levels))
    people = sum(group_sizes(fanout ** (levels - 1)))
    with run.step(f"registering {people} people and founding {groups} groups"):
        spare = await _make_nodes(run, groups)
        with progress.bar(people + 1, "registered") as bar:
            run.fractal = await desk.build(
                levels, fanout, lambda group: [_node_for(run, group, spare)], bar.update
            )
        await _seed(run)
    fractal = run.fractal
    with run.step(f"starting {groups} nodes on 127.0.0.1"):
        await _start(run, per_process)
    with run.step("deliberating a proposal to the whole network"):
        proposal = await desk.deliberate(fractal)
        with progress.bar(len(desk.acts) - run.submitted, "acts") as bar:
            await run.carry(bar.update)
        ballot = await desk.open_ballot(fractal, proposal)
        await run.carry()
    with run.step(f"voting in secret ({len(fractal.people())} members, ring signatures)"):
        with progress.bar(len(fractal.people()), "members") as bar:
            await desk.vote(fractal, ballot, bar.update)
        await run.carry()
    with run.step("counting in the base groups and summing up to the root"):
        await desk.count(fractal, ballot)
        await run.carry()
        for level in range(2, levels + 1):
            for group in fractal.at_level(level):
                await desk.sum_up(fractal, ballot, group)
            await run.carry()
        top = desk.acts[-1].event
        everywhere = [(d, top.id) for d in run.dirs.values()]
        await loopback.wait_held(everywhere, CARRY_TIMEOUT_S)
    base = fractal.bases()[0]
    with run.step(f"electing a steward in {fractal.names[base]}; a payment the ledger flags"):
        steward = await desk.elect_steward(fractal, base)
        await desk.flagged_payment(base, steward)
        await run.carry()
    with run.step("recalling the steward"):
        motion = await desk.recall(fractal, base, steward)
        await run.carry()
    with run.step("an oversight group, a protected report and its answer"):
        report = await desk.oversee(fractal, base)
        await run.carry()
    summary = await _summary(run, proposal, ballot, base, motion, steward)
    answer = await loopback.get(run.dirs[report.group], f"/v1/reports/{report.id.hex()}")
    summary["report"] = {"id": report.id.hex(), "status": answer["status"]}
    return summary


#: Seconds between the ballot of today's announcement and its opening:
#: time for its rings to reach every node.
LIVE_LEAD_S = 15


async def _live_ballot(run: Run, seconds: int) -> None:
    """A ballot of today: announced now, open in LIVE_LEAD_S seconds for
    ``seconds``; one member of the web app's group is left to vote in the
    browser, the others vote when it opens. When it closes, the votes the
    nodes hold (the browser's too) are counted and summed up to the root."""
    desk, fractal = run.desk, run.fractal
    base = fractal.bases()[0]
    visitor = fractal.members[base][-1]
    ballot = await desk.open_live_ballot(fractal, now_ms(), LIVE_LEAD_S, seconds)
    await run.carry()
    web = api_of(run.dirs[base])
    click.echo(
        f"\nA ballot of today, open in {LIVE_LEAD_S} s for {seconds} s: {web}/b/{ballot.id.hex()}\n"
        f"Vote on it as {visitor.name}: sign in at {web}/ with the key file {visitor.key_file}"
    )
    body = ballot.event.body
    await trio.sleep(max(0.0, (body["opens"] - now_ms()) / 1000))
    await desk.vote(fractal, ballot, lambda _: None, at_ms=now_ms(), leave_out=visitor)
    await run.carry()
    await trio.sleep(max(0.0, (body["closes"] - now_ms()) / 1000 + 1))
    for group in fractal.bases():
        await _gather_votes(run, group)
    await desk.count(fractal, ballot, at_ms=now_ms())
    await run.carry()
    for level in range(2, fractal.levels[fractal.root] + 1):
        for group in fractal.at_level(level):
            await desk.sum_up(fractal, ballot, group)
        await run.carry()
    click.echo(f"The ballot of today is counted: {web}/b/{ballot.id.hex()}")


async def _gather_votes(run: Run, group: bytes) -> None:
    """The votes ``group``'s node holds that the desk does not (cast in a
    browser), so that the count is of every vote: as the group's counter
    reads them from its node."""
    node, after = run.dirs[group], ""
    while True:
        page = await run.loopback.get(node, f"/v1/events?group={group.hex()}&kind=vote{after}")
        ids = [bytes.fromhex(e["id"]) for e in page["events"]]
        held = await run.desk.store.events.has(ids)
        raws = [
            await run.loopback.get_raw(node, f"/v1/events/{i.hex()}") for i in ids if i not in held
        ]
        if raws:
            await ingest_raw(run.desk.store, raws, now_ms(), run.desk.genesis.network_id)
        if page["next"] is None:
            return
        after = f"&after={page['next']}"


async def _make_nodes(run: Run, count: int) -> list[tuple[DataDir, SigningKey]]:
    """A data directory, and its node key, for each group to be."""
    made = []
    for n in range(count):
        data_dir = DataDir(run.root / "nodes" / f"node-{n:02d}")
        made.append((data_dir, await data_dir.initialize(run.desk.genesis)))
    return made


def _node_for(run: Run, group: bytes, spare: list[tuple[DataDir, SigningKey]]) -> bytes:
    """Give ``group`` one of the nodes made; its key, for ``group.nodes``."""
    data_dir, key = spare.pop(0)
    run.dirs[group] = data_dir
    return bytes(key.verify_key)


async def _seed(run: Run) -> None:
    """Give every node the network as the desk built it (registrations,
    groups, memberships, node names), as a founding assembly would hand
    it out, so that the story starts on a network that exists."""
    raws = [stored.raw for stored in await _all_events(run.desk.store)]
    for data_dir in run.dirs.values():
        async with open_network_store(data_dir.store_path, run.desk.genesis) as store:
            await ingest_raw(store, raws, now_ms(), run.desk.genesis.network_id)


async def _all_events(store: NetworkStore) -> list[Any]:
    found: list[Any] = []
    after: Key | None = None
    while page := await store.events.query(after=after, limit=MAX_LIMIT):
        found.extend(page)
        after = page[-1].key
    return found


async def _start(run: Run, per_process: int) -> None:
    """The root's node first; every other bootstraps from it."""
    ordered = sorted(run.dirs, key=lambda g: -run.fractal.levels[g])
    first = run.loopback.run([run.dirs[ordered[0]]])
    await run.loopback.wait_up(first)
    boot = [_addr(first)]
    rest = ordered[1:]
    started: list[NodeProcess] = []
    with progress.bar(len(ordered), "nodes up") as bar:
        bar.update(1)
        for i in range(0, len(rest), per_process):
            started.append(run.loopback.run([run.dirs[g] for g in rest[i : i + per_process]], boot))
        for process in started:
            await run.loopback.wait_up(process, timeout=120.0)
            bar.update(len(process.dirs))


def _addr(process: NodeProcess) -> str:
    return str(runtime_of(process.dirs[0])["addrs"][0])


async def _summary(
    run: Run, proposal: SignedEvent, ballot: SignedEvent, base: bytes, motion: SignedEvent,
    steward: Member,
) -> dict[str, Any]:  # fmt: skip
    fractal, loopback = run.fractal, run.loopback
    root_node, base_node = run.dirs[fractal.root], run.dirs[base]
    described = await loopback.get(root_node, f"/v1/ballots/{ballot.id.hex()}")
    levels = []
    for level in described["outcome"]["levels"]:
        rows = [g for g in level["groups"] if g["result"] is not None]
        levels.append(
            {
                "level": level["level"],
                "groups": len(level["groups"]),
                "voters": sum(g["result"]["voters"] for g in rows),
                "eligible": sum(g["result"]["eligible"] for g in rows),
                "counts": [sum(g["result"]["counts"][i] for g in rows) for i in range(2)],
            }
        )
    ledger = await loopback.get(base_node, f"/v1/groups/{base.hex()}/ledger")
    recall = await loopback.get(base_node, f"/v1/motions/{motion.id.hex()}")
    return {
        "network": run.desk.genesis.network_id.hex(),
        "nodes": len(run.dirs),
        "processes": len(loopback.processes),
        "members": len(fractal.people()),
        "dir": str(run.root),
        "web": api_of(base_node) + "/",
        "steps": [{"name": name, "seconds": seconds} for name, seconds in run.steps],
        "proposal": proposal.event.body["title"],
        "options": described["options"],
        "ballot": levels,
        "decided_option": described["decided_option"],
        "flags": [flag["kind"] for flag in ledger["flags"]],
        "recall": {
            "holder": steward.name,
            "motion": motion.id.hex(),
            "decided_option": (recall["ballot"] or {}).get("decided_option"),
        },
    }


def _print_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    options = summary["options"]
    click.echo(f"\nayllu demo: {summary['nodes']} nodes, {summary['members']} members")
    click.echo(f"Proposal: {summary['proposal']}")
    for level in summary["ballot"]:
        turnout = 100 * level["voters"] / max(1, level["eligible"])
        counts = ", ".join(f"{o} {c}" for o, c in zip(options, level["counts"], strict=True))
        click.echo(
            f"  level {level['level']} ({level['groups']} groups): {counts}; "
            f"{level['voters']} of {level['eligible']} voted ({turnout:.0f} %)"
        )
    click.echo(f"Decided: {summary['decided_option'] or 'nothing (no quorum)'}")
    click.echo(f"Ledger flags: {', '.join(summary['flags']) or 'none'}")
    recall = summary["recall"]
    recalled = "recalled" if recall["decided_option"] == "recall" else "not recalled"
    click.echo(f"Recall of the steward {recall['holder']}: {recalled}")
    click.echo(f"Protected report: {summary['report']['status']}")
    click.echo("Timings:")
    for step in summary["steps"]:
        click.echo(f"  {step['seconds']:7.1f} s  {step['name']}")
    click.echo(f"Web app: {summary['web']}")
    click.echo(f"Data: {summary['dir']}")


