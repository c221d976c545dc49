"""Measure classifier latency: ``python -m routing.latency [--rounds N]``.

Loads the shipped model in a fresh interpreter state (timing ``load_model``), then classifies
every text of the corpus, the held-out sets and the independent calls, one request at a time,
with the shipped gazetteer, and prints p50, p99 and max per request, in wall-clock time and in
the process's CPU time (full ``classify``: features, model heads, rules, district, place).
Single thread, in process.
Not imported by the runtime path.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Sequence

from routing.classifier import classify
from routing.gazetteer import Gazetteer, parse_csv
from routing.model import load_model
from routing.training import CORPUS_PATH, HELDOUT_PATH, INDEPENDENT_HELDOUT_PATH, INDEPENDENT_TRAIN_PATHS


def main(argv: Sequence[str] | None = None) -> int:
    """Print load time and per-request latency percentiles."""
    parser = argparse.ArgumentParser(prog="python -m routing.latency")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    model = load_model()
    load_s = time.perf_counter() - started
    requests: list[dict[str, str]] = []
    gazetteer = Gazetteer(parse_csv((CORPUS_PATH.parent / "gazetteer-yicheng.csv").read_text(encoding="utf-8")))
    for path in (CORPUS_PATH, HELDOUT_PATH, *INDEPENDENT_TRAIN_PATHS, INDEPENDENT_HELDOUT_PATH):
        with open(path, encoding="utf-8") as lines:
            requests.extend(json.loads(line) for line in lines if line.strip())
    for r in requests[:200]:  # warm up caches and numpy dispatch
        classify(r["text"], r.get("address"), r.get("district"), model=model, gazetteer=gazetteer)
    samples: list[float] = []
    cpu: list[float] = []  # CPU time of this process: what one call costs a core, whatever else runs
    for _ in range(args.rounds):
        for r in requests:
            c0, t0 = time.process_time(), time.perf_counter()
            classify(r["text"], r.get("address"), r.get("district"), model=model, gazetteer=gazetteer)
            samples.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"model load: {load_s * 1000:.1f} ms ({len(model.vocabulary)} features, {len(model.classes)} classes)")
    for name, values in (("wall", samples), ("cpu", cpu)):
        values.sort()
        p50 = statistics.median(values)
        p99 = values[int(len(values) * 0.99) - 1]
        top = values[-1]
        print(f"classify {name}: n={len(values)} p50={p50 * 1e6:.0f} µs p99={p99 * 1e6:.0f} µs max={top * 1e6:.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
