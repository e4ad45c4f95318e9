"""What the web app's charts draw, computed on the node so that a slow
phone only lays out a small inline SVG: no charting script to download.

Each function returns plain numbers (percentages of a bar's full length,
coordinates in a 0..100 box); the templates turn them into SVG with a
text equivalent beside each chart for screen readers.
"""

from __future__ import annotations

import math
from typing import Any, TypedDict

from protocol.power_map import Graph


class Bar(TypedDict):
    label: str
    value: int
    of: int
    pct: float


def _bar(label: str, value: int, of: int) -> Bar:
    return {
        "label": label,
        "value": value,
        "of": of,
        "pct": round(100 * value / of, 1) if of else 0.0,
    }


def option_bars(options: list[str], results: dict[str, Any]) -> list[Bar]:
    """Votes per option at the top level that has results (the scope's
    once its sum is in, else the sum of what has been counted so far)."""
    top = _top_results(results)
    counts = [sum(r["counts"][i] for r in top) for i in range(len(options))]
    total = sum(counts)
    return [_bar(option, count, total) for option, count in zip(options, counts, strict=True)]


def turnout_bars(results: dict[str, Any]) -> list[Bar]:
    """Participation per level: voters of the eligible, over the groups of
    that level whose result is in."""
    bars = []
    for level in results["levels"]:
        done = [g["result"] for g in level["groups"] if g["result"] is not None]
        voters = sum(r["voters"] for r in done)
        eligible = sum(r["eligible"] for r in done)
        bars.append(_bar(str(level["level"]), voters, eligible))
    return bars


def _top_results(results: dict[str, Any]) -> list[dict[str, Any]]:
    for level in reversed(results["levels"]):
        done = [g["result"] for g in level["groups"] if g["result"] is not None]
        if done:
            return done
    return []


class Drawing(TypedDict):
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]


def graph_drawing(graph: Graph) -> Drawing:
    """The power map on a circle: few names, many readers; a force layout
    would cost a script and give no more meaning."""
    count = len(graph["nodes"])
    place: dict[str, tuple[float, float]] = {}
    nodes = []
    for n, node in enumerate(graph["nodes"]):
        angle = 2 * math.pi * n / max(1, count) - math.pi / 2
        x, y = 50 + 38 * math.cos(angle), 50 + 38 * math.sin(angle)
        place[node["id"]] = (x, y)
        nodes.append({**node, "x": round(x, 2), "y": round(y, 2)})
    edges = [
        {
            **edge,
            "x1": round(place[edge["source"]][0], 2),
            "y1": round(place[edge["source"]][1], 2),
            "x2": round(place[edge["target"]][0], 2),
            "y2": round(place[edge["target"]][1], 2),
        }
        for edge in graph["edges"]
    ]
    return {"nodes": nodes, "edges": edges}
