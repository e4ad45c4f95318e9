"""Propagation through a 31-node fractal (1 + 5 + 25) of node processes on
loopback, spread over 4 processes for 2 cores (tests/helpers/local_network.py).

Proposals: each is submitted to a random leaf's API; the bench polls every
node's API until all 31 hold it. Results: every base group's count is
submitted at its node, each parent's sum as soon as its node holds its
children's counts, the root's as soon as the root holds the parents' sums.
Prints JSON:

  proposal_all_s       median and p95, from the submit to the moment the
                       last of the 31 nodes holds it (--proposals of them);
  proposal_hop_s       median, from the submit to the moment the leaf's
                       parent holds it: one gossip hop, the baseline;
  hops_ratio           proposal_all_s median / proposal_hop_s median: how
                       many hops' time reaching everyone costs (the fractal
                       is at most 4 hops from leaf to leaf);
  submit_s             median of the API round trip of those submits (a
                       local ingest), and proposal_ratio, proposal_all_s
                       median over it;
  result_to_root_s     from the last leaf's count to the root's sum being
                       held by the root (two levels of aggregation, each
                       waiting for its parts to arrive).

The poll interval (20 ms) bounds the resolution. The nodes' sync interval
is long (60 s) so that what is measured is gossip, not sync.

    python bench/propagation.py [--proposals 20]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import trio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))

from local_network import LocalNetwork, run_ballot
from network_factory import Scenario, build_tree

from node import progress
from protocol.event import SignedEvent

POLL_S = 0.02


async def _first_held(network: LocalNetwork, event: SignedEvent, groups: list[bytes]) -> float:
    """Seconds (trio clock) when every node of ``groups`` first held ``event``."""
    waiting = set(groups)
    while waiting:
        for group in sorted(waiting):
            if await network.holds(group, event.id):
                waiting.discard(group)
        if waiting:
            await trio.sleep(POLL_S)
    return trio.current_time()


async def bench(proposals: int, root: Path) -> dict[str, Any]:
    s = Scenario(root_level=3)
    tree = build_tree(s, fanout=5, size=3)
    network = LocalNetwork(root, s, tree, sync_interval_s=60.0)
    everyone = sorted(tree.levels)
    net = s.net
    parents = tree.children[net]
    leaves = [leaf for parent in parents for leaf in tree.children[parent]]
    parent_of = {leaf: parent for parent in parents for leaf in tree.children[parent]}
    rnd = random.Random(5)
    try:
        await network.prepare()
        await network.wait_up(network.start([net]))
        rest = [*parents, *leaves]
        started = [network.start(rest[i::3]) for i in range(3)]
        for process in started:
            await network.wait_up(process)
        # Let the links and meshes form: every leaf linked to its family.
        with trio.fail_after(120):
            while True:
                statuses = [await network.status(leaf) for leaf in leaves]
                if all(
                    all(link["state"] == "connected" for link in status["links"])
                    and all(
                        len(peers) == 5  # the parent and four siblings
                        for topic, peers in status["topics"].items()
                        if "/family/" in topic
                    )
                    for status in statuses
                ):
                    break
                await trio.sleep(0.5)
        await trio.sleep(3)  # a few heartbeats: meshes grafted

        all_s, hop_s, submit_s = [], [], []
        for n in range(proposals):
            leaf = rnd.choice(leaves)
            author = tree.members[leaf][n % 3]
            proposal = s.propose(author, net, title=f"Propuesta {n}", text=f"Texto {n}.")
            start = trio.current_time()
            await network.submit(leaf, proposal)
            submitted = trio.current_time()
            hop = await _first_held(network, proposal, [parent_of[leaf]])
            done = await _first_held(network, proposal, everyone)
            all_s.append(done - start)
            hop_s.append(hop - start)
            submit_s.append(submitted - start)

        # A ballot counted in every base group and summed up two levels:
        # from the last count to the root's sum.
        proposal = s.propose(tree.members[leaves[0]][0], net, title="Consulta", text="¿Sí o no?")
        await network.submit(leaves[0], proposal)
        await network.wait_held([proposal], [net], timeout=120)
        run = await run_ballot(network, proposal)
        result_to_root = run.top_at - run.last_count_at
    finally:
        await network.close()

    def p95(values: list[float]) -> float:
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    all_median = statistics.median(all_s)
    return {
        "bench": "propagation",
        "nodes": len(everyone),
        "processes": 4,
        "proposals": proposals,
        "proposal_all_s": {"median": round(all_median, 3), "p95": round(p95(all_s), 3)},
        "proposal_hop_s": {"median": round(statistics.median(hop_s), 3)},
        "hops_ratio": round(all_median / statistics.median(hop_s), 2),
        "submit_s": {"median": round(statistics.median(submit_s), 4)},
        "proposal_ratio": round(all_median / statistics.median(submit_s), 1),
        "result_to_root_s": round(result_to_root, 3),
        "poll_interval_s": POLL_S,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proposals", type=int, default=20)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="ayllu-propagation-") as tmp,
        progress.step(f"31 node processes, {args.proposals} proposals and a ballot"),
    ):
        figures = trio.run(bench, args.proposals, Path(tmp))
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
