"""Benchmark `resim run`: pause_ends over a 120-month horizon.

Prints replications per second (through the real CLI path, writing results), model events per
second, bare SimPy's event rate measured in the same run for scale, and peak memory at 1,000 and
10,000 replications (each in a fresh process) to show that memory stays flat as replications grow.

    python benchmarks/bench_run.py                 # all figures (about 2 minutes on 2 cores)
    python benchmarks/bench_run.py --quick         # speed only: 1,000 replications, three times

Run it in an environment with the plain install (`pip install -e .`) and in one with the compiled
build (`RESIM_COMPILE=1 pip install .`, see setup.py): it says which it measured, and the series
digest must be the same in both.

Goal on the 2-core reference machine: 1,000 replications in 10 s or less.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import simpy

from resim.model import COMPILED

REPO = Path(__file__).resolve().parents[1]
HORIZON_MONTHS = 120


def bare_simpy_events_per_s(n: int = 300_000) -> float:
    """Events per second of a SimPy process that only yields timeouts."""
    env = simpy.Environment()

    def ticker(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(n):
            yield env.timeout(1)

    env.process(ticker(env))
    t = time.perf_counter()
    env.run()
    return n / (time.perf_counter() - t)


def events_per_replication(scenario_file: Path, replications: int = 20) -> tuple[float, str]:
    """Count the events the model schedules, over a few replications run in this process, and
    digest their series (equal digests: the plain and the compiled model give the same results)."""
    from resim.loader import load
    from resim.runner import run_one

    count = 0
    digest = hashlib.sha256()
    original = simpy.Environment.schedule

    def counting(self, event, priority=1, delay=0):  # type: ignore[no-untyped-def]
        nonlocal count
        count += 1
        return original(self, event, priority, delay)

    simpy.Environment.schedule = counting  # type: ignore[method-assign]
    try:
        sc = load(scenario_file).scenario
        for i in range(replications):
            digest.update(run_one(sc, sc.seed, i).series.tobytes())
    finally:
        simpy.Environment.schedule = original  # type: ignore[method-assign]
    return count / replications, digest.hexdigest()[:16]


def cli_run(scenario_file: Path, replications: int, workers: int | None) -> dict[str, float]:
    """Run `resim run` in a fresh process; return wall time and peak RSS (main, largest worker)."""
    code = f"""
import json, resource, sys, time
from typer.testing import CliRunner
from resim.cli import app
args = ["run", {str(scenario_file)!r}, "-n", "{replications}", "--results", sys.argv[1]]
args += {["-w", str(workers)] if workers else []!r}
t = time.perf_counter()
result = CliRunner().invoke(app, args)
wall = time.perf_counter() - t
assert result.exit_code == 0, result.output
print(json.dumps({{"wall_s": wall,
                  "main_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""
    with tempfile.TemporaryDirectory() as results:
        out = subprocess.run([sys.executable, "-c", code, results], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="speed only (skip the 10,000-replication memory run)")
    parser.add_argument("--workers", type=int, default=None, help="local processes (default: all cores)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of 1,000 replications (the median is reported)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "pause_ends_120.yaml"
        scenario.write_text(f"extends: {REPO / 'scenarios' / 'pause_ends.yaml'}\n"
                            f"name: pause_ends_120\nhorizon_months: {HORIZON_MONTHS}\n")
        per_rep, digest = events_per_replication(scenario)
        print(f"scenario: pause_ends, {HORIZON_MONTHS} months; workers: {args.workers or 'all cores'}")
        print(f"model: {'compiled with mypyc' if COMPILED else 'plain Python'}; {per_rep:,.0f} events per "
              f"replication; series digest of replications 0-19: {digest}")
        print("(bare SimPy's rate, measured before each run, shows how busy the host is: a shared VM varies)")
        runs = [1_000] * args.repeat + ([] if args.quick else [10_000])
        walls: list[float] = []
        for n in runs:
            bare = bare_simpy_events_per_s()
            r = cli_run(scenario, n, args.workers)
            rate = n / r["wall_s"]
            if n == 1_000:
                walls.append(r["wall_s"])
            print(f"{n:>6,} replications: {r['wall_s']:6.1f} s wall  {rate:6.1f} replications/s  "
                  f"{rate * per_rep:,.0f} model events/s  bare SimPy {bare:,.0f} events/s  "
                  f"peak RSS main {r['main_peak_mib']:.0f} MiB, largest worker {r['worker_peak_mib']:.0f} MiB")
        print(f"1,000 replications: median {statistics.median(walls):.1f} s of {len(walls)} runs (goal: 10 s or less)")


if __name__ == "__main__":
    main()
