"""Hostile conditions of the network at CI size (tests/helpers/
faults_network.py; bench/faults.py runs them at full size): a partition
that heals, floods, and churn, on real node processes on loopback."""

from __future__ import annotations

from faults_network import churn, floods, partition_heal


def test_a_partition_heals_and_every_node_agrees() -> None:
    figures = partition_heal(full=False)
    assert figures["leaked_while_split"] == 0, figures
    assert figures["outcomes_seen"] == 1, figures
    assert figures["passed"], figures


def test_flooders_are_banned_and_the_node_keeps_serving() -> None:
    figures = floods(full=False)
    for phase in ("invalid", "useless"):
        assert figures[f"{phase}_disconnected"], figures
        assert figures[f"{phase}_api_failures"] == 0, figures
        assert figures[f"{phase}_honest_missing"] == 0, figures
        # Most of the flood never reached the ingest.
        assert figures[f"{phase}_rejected"] + figures[f"{phase}_stored"] < figures[f"{phase}_sent"]
    assert figures["passed"], figures


def test_churn_loses_nothing_and_links_come_back() -> None:
    figures = churn(full=False)
    assert figures["restarts"] >= 3 and figures["events_acknowledged"] > 0, figures
    assert figures["events_lost"] == 0, figures
    assert figures["passed"], figures
