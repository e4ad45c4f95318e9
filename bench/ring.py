"""Ring signature costs against their floor: the libsodium calls they are made of.

For each ring size, in the same run:

  sign_ms, verify_ms   protocol/ring.py's sign and verify, median of a few
                       runs, with the PreparedRing built once (as for the
                       votes of one ballot); prepare_ms is that build;
  signature_bytes      64 + 32 x size.

and the building blocks through pynacl, in microseconds per call: base-point
multiplication, variable-base multiplication, point addition, hash to the
curve (from_uniform), point validation, one plain Ed25519 verification
(crypto_sign_open).

  floor_ms         = base + 3 x variable + 2 x addition: what each member of
                     a ring costs a verifier in libsodium, whatever the code
                     around it;
  ratio_to_floor   = verify_ms / (size x floor_ms), goal <= 1.3: the Python
                     around libsodium must cost little;
  ratio_to_ed25519 = verify_ms / (size x ed25519_verify_ms): what a vote
                     costs against an ordinary signed event, per member.

The building blocks are measured again before each size and their medians
are used, so that the ratios and the signatures see the same machine (a VM's
speed drifts by tens of percent over a minute). Prints one JSON object.

    python bench/ring.py [--sizes 5,25,125,625] [--runs 5]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import nacl.bindings

from node import progress
from protocol.keys import key_from_seed
from protocol.ring import PreparedRing, RingSigner, sign, signature_size, verify

#: Rings of this size or more are signed and verified this many times at most.
LARGE_RING = 500
LARGE_RING_RUNS = 2
BLOCK_CALLS = 300
BLOCK_REPEATS = 3


def _per_call_us(operation: Callable[[], object], calls: int = BLOCK_CALLS) -> float:
    """Median over a few repeats of the time per call, in microseconds."""
    samples = []
    for _ in range(BLOCK_REPEATS):
        started = time.perf_counter()
        for _ in range(calls):
            operation()
        samples.append((time.perf_counter() - started) / calls * 1e6)
    return statistics.median(samples)


def measure_blocks() -> dict[str, float]:
    """Microseconds per call of each libsodium operation a ring signature uses."""
    scalar = nacl.bindings.crypto_core_ed25519_scalar_reduce(
        hashlib.sha512(b"bench ring scalar").digest()
    )
    point = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(scalar)
    other = nacl.bindings.crypto_core_ed25519_from_uniform(hashlib.sha256(b"bench").digest())
    uniform = hashlib.sha256(b"bench ring uniform").digest()
    key = key_from_seed(hashlib.sha256(b"bench ring ed25519").digest())
    signed = key.sign(b"ayllu/event/v1\x00" + bytes(32))
    public = bytes(key.verify_key)
    return {
        "base_mul_us": _per_call_us(
            lambda: nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(scalar)
        ),
        "var_mul_us": _per_call_us(
            lambda: nacl.bindings.crypto_scalarmult_ed25519_noclamp(scalar, point)
        ),
        "add_us": _per_call_us(lambda: nacl.bindings.crypto_core_ed25519_add(point, other)),
        "from_uniform_us": _per_call_us(
            lambda: nacl.bindings.crypto_core_ed25519_from_uniform(uniform)
        ),
        "is_valid_point_us": _per_call_us(
            lambda: nacl.bindings.crypto_core_ed25519_is_valid_point(point)
        ),
        "ed25519_verify_us": _per_call_us(lambda: nacl.bindings.crypto_sign_open(signed, public)),
    }


def ring_of(size: int) -> tuple[list[RingSigner], list[bytes]]:
    """``size`` member keys from fixed seeds, and their ring (sorted keys)."""
    signers = [
        RingSigner.from_key(key_from_seed(hashlib.sha256(b"bench ring key %d" % i).digest()))
        for i in range(size)
    ]
    signers.sort(key=lambda signer: signer.public)
    return signers, [signer.public for signer in signers]


def measure_size(size: int, runs: int) -> dict[str, Any]:
    """Sign and verify times for one ring size, the signer in the middle."""
    signers, keys = ring_of(size)
    scope = hashlib.sha256(b"bench ballot %d" % size).digest()
    started = time.perf_counter()
    ring = PreparedRing(keys, scope)
    prepare_ms = (time.perf_counter() - started) * 1e3
    signer = signers[size // 2]
    sign_ms: list[float] = []
    verify_ms: list[float] = []
    for run in range(runs):
        message = b"vote %d" % run
        started = time.perf_counter()
        signature = sign(ring, signer, message, hashlib.sha256(message).digest())
        sign_ms.append((time.perf_counter() - started) * 1e3)
        started = time.perf_counter()
        image = verify(ring, message, signature)
        verify_ms.append((time.perf_counter() - started) * 1e3)
        if image != ring.key_image(signer):
            raise SystemExit("bench is broken: the key image is not the signer's")
    return {
        "size": size,
        "runs": runs,
        "prepare_ms": prepare_ms,
        "sign_ms": statistics.median(sign_ms),
        "verify_ms": statistics.median(verify_ms),
        "signature_bytes": len(signature),
    }


def measure(sizes: list[int], runs: int) -> dict[str, Any]:
    rounds: list[dict[str, float]] = []
    rings: list[dict[str, Any]] = []
    with progress.bar(len(sizes), "ring sizes") as shown:
        for size in sizes:
            rounds.append(measure_blocks())
            rings.append(
                measure_size(size, min(runs, LARGE_RING_RUNS) if size >= LARGE_RING else runs)
            )
            shown.update(1)
    blocks = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    floor_ms = (blocks["base_mul_us"] + 3 * blocks["var_mul_us"] + 2 * blocks["add_us"]) / 1e3
    ed25519_ms = blocks["ed25519_verify_us"] / 1e3
    for ring in rings:
        assert ring["signature_bytes"] == signature_size(ring["size"])
        ring["ratio_to_floor"] = round(ring["verify_ms"] / (ring["size"] * floor_ms), 3)
        ring["ratio_to_ed25519"] = round(ring["verify_ms"] / (ring["size"] * ed25519_ms), 3)
        for name in ("prepare_ms", "sign_ms", "verify_ms"):
            ring[name] = round(ring[name], 3)
    return {
        "rings": rings,
        "floor_ms": round(floor_ms, 4),
        "ed25519_verify_ms": round(ed25519_ms, 4),
        "building_blocks_us": {name: round(value, 2) for name, value in blocks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", default="5,25,125,625", help="ring sizes, comma-separated (1 to 1024)"
    )
    parser.add_argument(
        "--runs", type=int, default=5, help=f"runs per size ({LARGE_RING_RUNS} from {LARGE_RING})"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    figures = measure(sizes, max(1, args.runs))
    json.dump({**figures, "python": platform.python_version()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
