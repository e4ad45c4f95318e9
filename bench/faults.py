"""The hostile-conditions suite at full size: every scenario of
``tests/helpers/faults_*.py`` (each module's ``SCENARIOS``), run one after
the other, each printing its figures and whether its pass criterion held.

CI runs the same scenarios at a smaller size (tests/faults/); this is the
documented long run. Prints one JSON line per scenario, then a summary
line; exits 1 if any criterion failed.

    python bench/faults.py [--only NAME ...] [--seed N]
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node import progress

HELPERS = Path(__file__).resolve().parents[1] / "tests" / "helpers"
Scenario = Callable[..., dict[str, Any]]


def scenarios() -> dict[str, Scenario]:
    """Every scenario, by name, from the fault modules' ``SCENARIOS``."""
    sys.path.insert(0, str(HELPERS))
    found: dict[str, Scenario] = {}
    for path in sorted(HELPERS.glob("faults_*.py")):
        module = importlib.import_module(path.stem)
        found.update(module.SCENARIOS)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="run only these scenarios")
    parser.add_argument("--seed", type=int, default=1, help="the random seed of every scenario")
    args = parser.parse_args()
    known = scenarios()
    chosen = args.only or sorted(known)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        parser.error(f"no scenario {unknown}; there are {sorted(known)}")
    failed = []
    for name in chosen:
        with progress.step(name):
            figures = known[name](full=True, seed=args.seed)
        print(json.dumps({"scenario": name, **figures}), flush=True)
        if not figures["passed"]:
            failed.append(name)
    print(json.dumps({"scenarios": len(chosen), "failed": failed}))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
