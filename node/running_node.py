"""Talking to the node that runs on a data directory, through its local API
(node/api.py): where it is comes from ``DIR/node.json`` (node/cli_run.py).
For the commands that ask a running node rather than read its store:
``ayllu status``, ``peers``, ``sync``, ``bridge status``."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import click

from node.cli_run import RUNTIME_FILE

#: Seconds a request to the local API may take.
TIMEOUT_S = 30.0


def ask(
    root: Path,
    path: str,
    query: list[tuple[str, str]] | None = None,
    *,
    body: dict[str, Any] | None = None,
) -> Any:
    """GET ``path`` (POST ``body`` as JSON, if given) from the API of the
    node running on ``root``; its JSON answer. A ClickException, saying
    what to do, if no node runs there, it has no API, or it answers an
    error (with the API's reason code)."""
    try:
        runtime = json.loads((root / RUNTIME_FILE).read_text())
    except FileNotFoundError:
        raise click.ClickException(f"no node is running on {root} (no {RUNTIME_FILE})") from None
    if not runtime.get("api"):
        raise click.ClickException("the node runs without its API: start it with --api")
    url = f"{runtime['api']}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        raise click.ClickException(_error_of(exc)) from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(
            f"the node's API at {runtime['api']} did not answer: {exc}"
        ) from None


def _error_of(exc: urllib.error.HTTPError) -> str:
    """``reason: detail`` from the API's error document, else the status."""
    try:
        error = json.loads(exc.read())["error"]
        return f"{error['reason']}: {error['detail']}"
    except (ValueError, KeyError, TypeError):
        return f"the node answered {exc.code}"
