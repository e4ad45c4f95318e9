"""Progress on stderr for long work (``ayllu demo``, the benchmarks): the
step under way and how long it took, and a bar where the amount of work
is known; stdout stays for the results, which scripts read."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click


@contextmanager
def step(name: str, timings: list[tuple[str, float]] | None = None) -> Iterator[None]:
    """Say ``name`` is under way, then how long it took (also appended to
    ``timings``, rounded to the millisecond)."""
    click.echo(f"· {name} …", err=True)
    start = time.monotonic()
    yield
    seconds = time.monotonic() - start
    if timings is not None:
        timings.append((name, round(seconds, 3)))
    click.echo(f"  done in {seconds:.1f} s", err=True)


@contextmanager
def bar(length: int, label: str) -> Iterator[Any]:
    """A progress bar of ``length`` steps; ``update(n)`` moves it on."""
    with click.progressbar(length=length, label=f"  {label}", file=sys.stderr) as shown:
        yield shown
