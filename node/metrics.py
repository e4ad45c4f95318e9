"""What a node exposes to its operator's monitoring: Prometheus metrics and
a health verdict.

The node keeps counters as it works (node/runtime.py); ``Metrics`` is a
snapshot of them, and ``MetricsCollector`` turns each scrape's snapshot
into Prometheus metric families, so nothing is counted twice. Served by
the local API at ``/metrics`` (text format) and ``/v1/health``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass
class Metrics:
    """One snapshot of a node's state and counters."""

    peers_connected: int
    links_by_state: dict[str, int]
    events_by_kind: dict[str, int]
    sync_sessions: int
    sync_failures: int
    #: Gossiped events by outcome: stored, duplicate, ignored, rejected.
    gossip_by_outcome: dict[str, int]
    #: Events refused entry, by reason code, whatever brought them.
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    publishes_dropped: int = 0


class MetricsCollector(Collector):
    """Prometheus families from a fresh ``Metrics`` at each scrape."""

    def __init__(self, snapshot: Callable[[], Metrics]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        m = self._snapshot()
        yield GaugeMetricFamily("ayllu_peers_connected", "Peers connected now.", m.peers_connected)
        links = GaugeMetricFamily("ayllu_links", "Links kept, by state.", labels=["state"])
        for state, number in sorted(m.links_by_state.items()):
            links.add_metric([state], number)
        yield links
        events = GaugeMetricFamily("ayllu_events", "Events stored, by kind.", labels=["kind"])
        for kind, number in sorted(m.events_by_kind.items()):
            events.add_metric([kind], number)
        yield events
        yield CounterMetricFamily(
            "ayllu_sync_sessions", "Sync sessions started by this node.", m.sync_sessions
        )
        yield CounterMetricFamily(
            "ayllu_sync_failures", "Sync sessions that failed.", m.sync_failures
        )
        gossip = CounterMetricFamily(
            "ayllu_gossip_messages", "Gossiped events, by outcome.", labels=["outcome"]
        )
        for outcome, number in sorted(m.gossip_by_outcome.items()):
            gossip.add_metric([outcome], number)
        yield gossip
        rejected = CounterMetricFamily(
            "ayllu_rejected_events", "Events refused entry, by reason code.", labels=["reason"]
        )
        for reason, number in sorted(m.rejected_by_reason.items()):
            rejected.add_metric([reason], number)
        yield rejected
        yield CounterMetricFamily(
            "ayllu_publishes_dropped", "Own gossip dropped for a full queue.", m.publishes_dropped
        )
