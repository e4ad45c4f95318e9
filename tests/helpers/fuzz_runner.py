"""Running a fuzz target (faults_fuzz.py) through hypothesis's own API,
with a counter in its body so that the figures are cases actually run: a
property over drawn inputs (``run_target``), or the store's state machine
(``store_model``). A failure is kept, not raised: the scenario reports it.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test

STATEFUL = Path(__file__).resolve().parents[1] / "storage" / "test_store_stateful.py"
#: How much of an error or a failing input a report spells out.
SHOWN_CHARS = 600


@dataclass
class Outcome:
    """A target's figures."""

    name: str
    cases: int = 0
    failures: int = 0
    error: str | None = None
    example: str | None = None
    elapsed_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def failed(self, exc: Exception) -> None:
        self.failures = 1
        self.error = f"{type(exc).__name__}: {exc}"[:SHOWN_CHARS]


def run_target(
    name: str,
    strategy: st.SearchStrategy[Any],
    check: Callable[[Any], None],
    cases: int,
    seed: int,
    examples: Sequence[Any] = (),
) -> Outcome:
    """``check`` on ``cases`` drawn inputs (and the explicit ``examples``),
    through hypothesis's API; a failure is shrunk, and the smallest failing
    input reported."""
    outcome = Outcome(name)
    failing: list[Any] = []
    started = time.perf_counter()

    def body(data: Any) -> None:
        outcome.cases += 1
        try:
            check(data)
        except BaseException:
            failing.append(data)
            raise

    test = given(strategy)(body)
    for value in examples:
        test = example(value)(test)
    test = settings(
        max_examples=cases,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        report_multiple_bugs=False,
        print_blob=False,
    )(test)
    test = hypothesis_seed(seed)(test)
    try:
        test()
    except Exception as exc:
        outcome.failed(exc)
        if failing:
            outcome.example = repr(failing[-1])[:SHOWN_CHARS]
    outcome.elapsed_s = round(time.perf_counter() - started, 1)
    return outcome


def store_model(cases: int) -> Outcome:
    """tests/storage/test_store_stateful.py's SqliteMatchesMemory, with
    ``cases`` examples (each a run of up to 20 steps); derandomized, as the
    test is, so it does not take the scenario's seed."""
    outcome = Outcome("store_model")
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("ayllu_store_stateful", STATEFUL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    steps = 0

    class Counted(module.SqliteMatchesMemory):  # type: ignore[name-defined,misc]
        def __init__(self) -> None:
            super().__init__()
            outcome.cases += 1

        def check_invariants(self, *args: Any, **kwargs: Any) -> None:
            # Once before the first step, then after each.
            nonlocal steps
            steps += 1
            super().check_invariants(*args, **kwargs)

    try:
        run_state_machine_as_test(
            Counted,
            settings=settings(
                max_examples=cases,
                stateful_step_count=20,
                database=None,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
    except Exception as exc:
        outcome.failed(exc)
    outcome.extra["steps"] = steps - outcome.cases
    outcome.elapsed_s = round(time.perf_counter() - started, 1)
    return outcome
