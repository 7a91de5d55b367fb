"""Benchmark the costs a whole-model sensitivity analysis and a sweep pay, beside bare SimPy's rate
measured in the same run:

- per-point overhead: sweep points of a few replications against the same replications run as one
  point (goal: within 20%);
- the cost of one sensitivity point (one replication with every world uniform set) and what a
  grouped analysis of the status quo (baseline, 60 reported months) costs at each sample size,
  measured on a small run and extrapolated to 2 cores and to a 64-core Dask cluster.

    python benchmarks/bench_sensitivity.py            # about 3 minutes on 2 cores
    python benchmarks/bench_sensitivity.py --full     # also the whole analysis at N = 512 (~20 min)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_run import bare_simpy_events_per_s  # noqa: E402

from resim.analysis import wholemodel as gs  # noqa: E402
from resim.analysis.sweep import evaluate  # noqa: E402
from resim.montecarlo.runner import run_one  # noqa: E402
from resim.scenario.loader import load  # noqa: E402

ENDS = REPO / "scenarios" / "pause_ends.yaml"
BASELINE = REPO / "scenarios" / "baseline.yaml"
SIXTY_REPORTED = {"horizon_months": 83}  # from 2025-01 with history to 2026-11, then 60 reported months


def sweep_overhead(points: int = 12, replications: int = 4, rounds: int = 5) -> None:
    """Points of a few replications (each a fresh load and summary, as a sweep worker does) against
    the same replications run in one loop: the same worlds, so the difference is the overhead. The
    two are timed in turn, `rounds` times, and the medians compared (one round of each swung by
    +-10% on this shared machine)."""
    override = {"china.licensing.approval_probability": 0.2}
    evaluate(ENDS, override, 1, 1)  # warm: imports and the file cache
    alone, pointwise = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        sc = load(ENDS, override).scenario
        for _ in range(points):
            for i in range(replications):
                run_one(sc, 1, i)
        alone.append(time.perf_counter() - t)
        t = time.perf_counter()
        for _ in range(points):
            evaluate(ENDS, override, replications, 1)
        pointwise.append(time.perf_counter() - t)
    a, p = statistics.median(alone), statistics.median(pointwise)
    print(f"sweep points of {replications} replications (pause_ends, 72 months): {points} points {p:.2f} s "
          f"against the same {points * replications} replications in one loop {a:.2f} s (medians of {rounds}): "
          f"{100 * (p / a - 1):+.0f}% (goal within +20%)")


def sensitivity_cost(n: int, workers: int) -> float:
    """Wall seconds of a grouped whole-model analysis of baseline over 60 reported months."""
    with tempfile.TemporaryDirectory() as results:
        t = time.perf_counter()
        folder = gs.start(BASELINE, n, Path(results), ["bench"], overrides=SIXTY_REPORTED)
        manifest = json.loads((folder / "manifest.json").read_text())
        gs.run(folder, workers)
        analysis = gs.analyze(folder, ["cumulative_shortfall_t"])
        wall = time.perf_counter() - t
    top = [r for r in analysis.indices if r["period"] == "all"][:3]
    widths = ", ".join(f"{r['factor']} ST {r['ST']:.2f} +-{r['ST_conf']:.2f}" for r in top)
    print(f"  N = {n}: {manifest['points']:,} points in {wall:.0f} s on {workers} workers "
          f"({wall / manifest['points'] * workers * 1e3:.0f} ms per point per worker); top: {widths}")
    return wall / manifest["points"] * workers


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--full", action="store_true", help="also run the analysis at N = 512")
    args = parser.parse_args()
    print(f"bare SimPy: {bare_simpy_events_per_s() / 1e6:.2f}M events/s (one core, this run)")
    sweep_overhead()
    factors = gs.groups_for([*gs.world_uniforms(load(BASELINE, SIXTY_REPORTED).scenario), gs.LUCK], "mechanism")
    groups = len(set(factors))
    print(f"whole-model Sobol of baseline over 60 reported months, grouped by mechanism: {len(factors)} factors "
          f"in {groups} groups, N x {groups + 2} points")
    per_point = sensitivity_cost(32, 2)
    if args.full:
        per_point = sensitivity_cost(512, 2)
    for n in (256, 512, 1024, 4096):
        points = n * (groups + 2)
        print(f"  estimate N = {n:>4}: {points:>6,} points: {points * per_point / 2 / 60:6.1f} min on 2 cores, "
              f"{points * per_point / 64 / 60:5.1f} min on a 64-core Dask cluster (at this machine's per-core speed)")
    print(f"bare SimPy after the run: {bare_simpy_events_per_s() / 1e6:.2f}M events/s")


if __name__ == "__main__":
    main()
