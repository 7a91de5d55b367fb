"""Benchmark `resim run`: pause_ends over a 120-month horizon.

Prints replications per second (through the real CLI path, writing results), model events per
second, bare SimPy's event rate measured in the same run for scale, and peak memory at 1,000 and
10,000 replications (each in a fresh process) to show that memory stays flat as replications grow.

    python benchmarks/bench_run.py                 # all figures (about 2 minutes on 2 cores)
    python benchmarks/bench_run.py --quick         # speed only: 1,000 replications, three times

Run it in an environment with the plain install (`pip install -e .`) and in one with the compiled
build (`pip install .` with a C compiler, see setup.py): it says which it measured, and the series
digest must be the same in both.

Goal on the 2-core reference machine: 1,000 replications in 10 s or less ("Model v2"), and 5 s or less
(the issue "Whole-model sensitivity ... and the speed to afford it"): the run ends by showing
where the time goes against that 5 s, phase by phase, beside bare SimPy's loop for the same events.

Wall time on a shared host says little (the same run took 8.5 s at load 0.8 and 87 s at load 15.6):
the figures that hold are the workers' CPU per replication and, where valgrind is installed,
instructions per replication (callgrind: the same count whatever else the host does). Budget for
the compiled build ("Speed where users are", item 3): 12 ms of CPU and 80M instructions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
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
    from resim.montecarlo.runner import run_one
    from resim.scenario.loader import load

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


def replication_phases(scenario_file: Path, replications: int = 200) -> dict[str, float]:
    """Milliseconds one replication spends, run in this process as a worker runs it: drawing its
    world, setting up the model and collecting its garbage; in SimPy's event loop (every event of the
    story); and assembling its monthly table."""
    import resim.model.simulation as simulation
    from resim.montecarlo.runner import run_one
    from resim.scenario.loader import load

    spent = {"event_loop": 0.0, "table": 0.0}

    def timed(key: str, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            out = fn(*args, **kwargs)
            spent[key] += time.perf_counter() - t
            return out
        return wrapper

    run, table = simpy.Environment.run, simulation.monthly_table
    simpy.Environment.run = timed("event_loop", run)  # type: ignore[method-assign]
    simulation.monthly_table = timed("table", table)
    try:
        sc = load(scenario_file).scenario
        run_one(sc, sc.seed, 0)  # warm: caches and first-use costs
        spent.update(event_loop=0.0, table=0.0)
        t = time.perf_counter()
        for i in range(replications):
            run_one(sc, sc.seed, i)
        total = time.perf_counter() - t
    finally:
        simpy.Environment.run, simulation.monthly_table = run, table  # type: ignore[method-assign]
    ms = {k: v / replications * 1e3 for k, v in spent.items()}
    return {"total": total / replications * 1e3, "world_and_setup": total / replications * 1e3 - sum(ms.values()),
            **ms}


def print_budget(scenario: Path, events: float, workers: int | None, run_1000: dict[str, float]) -> None:
    """Where a 1,000-replication run's time goes, against the 5 s goal of the sensitivity-and-speed
    issue: what is left for the model per replication once the fixed cost and the main process are paid."""
    goal_s, cores = 5.0, workers or os.cpu_count() or 1
    fixed = cli_run(scenario, 2, workers)["wall_s"]  # loading, starting workers, writing, the chart (not imports)
    phases = replication_phases(scenario)
    bare_ms = events / bare_simpy_events_per_s() * 1e3
    left_ms = ((goal_s - fixed) * cores - run_1000["main_cpu_s"]) / 1_000 * 1e3
    print(f"where the time goes (goal: 1,000 replications in {goal_s:.0f} s on {cores} cores):")
    print(f"  fixed cost of a run (resim run -n 2, after imports): {fixed:.1f} s wall")
    print(f"  1,000 replications: CPU of the main process {run_1000['main_cpu_s']:.1f} s (Parquet, summary, "
          f"chart; beside the workers), of the workers {run_1000['workers_cpu_s']:.1f} s")
    print(f"  one replication in one process: {phases['total']:.1f} ms = world, set-up and clean-up "
          f"{phases['world_and_setup']:.1f} + event loop {phases['event_loop']:.1f} (bare SimPy's loop for "
          f"its {events:,.0f} events: {bare_ms:.1f}) + monthly table {phases['table']:.1f}")
    used_ms = run_1000["workers_cpu_s"]  # s per 1,000 = ms per replication
    print(f"  the goal leaves the workers {left_ms:.1f} ms of CPU a replication; they used {used_ms:.1f} "
          f"({used_ms / max(left_ms, 1e-9):.1f}x)")


def instructions_per_replication(scenario_file: Path, many: int = 12, few: int = 2) -> float | None:
    """Instructions one replication costs, counted by callgrind: (a run of `many` - a run of `few`)
    / (many - few), so start-up and imports cancel out; None without valgrind."""
    if shutil.which("valgrind") is None:
        return None
    code = f"""
import gc, sys
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load
sc = load({str(scenario_file)!r}).scenario
gc.disable()
for i in range(int(sys.argv[1])):
    run_one(sc, sc.seed, i)
"""
    counts = []
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    for n in (many, few):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out",
                                  sys.executable, "-c", code, str(n)], capture_output=True, text=True, env=env,
                                 check=True)
        counts.append(int(re.search(r"Collected : (\d+)", out.stderr).group(1)))  # type: ignore[union-attr]
    return (counts[0] - counts[1]) / (many - few)


def cli_run(scenario_file: Path, replications: int, workers: int | None) -> dict[str, float]:
    """Run `resim run` in a fresh process; return wall time, peak RSS (main, largest worker) and CPU
    time (main, all workers)."""
    code = f"""
import json, resource, sys, time
from typer.testing import CliRunner
from resim.cli import app
args = ["run", {str(scenario_file)!r}, "-n", "{replications}", "--results", sys.argv[1]]
args += {["-w", str(workers)] if workers else []!r}
before = resource.getrusage(resource.RUSAGE_SELF)  # the run's own CPU, not the imports'
t = time.perf_counter()
result = CliRunner().invoke(app, args)
wall = time.perf_counter() - t
assert result.exit_code == 0, result.output
main, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = lambda usage: usage.ru_utime + usage.ru_stime
print(json.dumps({{"wall_s": wall, "main_peak_mib": main.ru_maxrss / 1024, "worker_peak_mib": workers.ru_maxrss / 1024,
                  "main_cpu_s": cpu(main) - cpu(before), "workers_cpu_s": cpu(workers)}}))
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
        thousands: list[dict[str, float]] = []  # the runs of 1,000
        for n in runs:
            bare = bare_simpy_events_per_s()
            r = cli_run(scenario, n, args.workers)
            rate = n / r["wall_s"]
            if n == 1_000:
                thousands.append(r)
            print(f"{n:>6,} replications: {r['wall_s']:6.1f} s wall  {rate:6.1f} replications/s  "
                  f"{rate * per_rep:,.0f} model events/s  bare SimPy {bare:,.0f} events/s  "
                  f"peak RSS main {r['main_peak_mib']:.0f} MiB, largest worker {r['worker_peak_mib']:.0f} MiB")
        median = sorted(thousands, key=lambda r: r["wall_s"])[len(thousands) // 2]
        print(f"1,000 replications: median {median['wall_s']:.1f} s of {len(thousands)} runs (goal: 10 s or less)")
        cpu_ms = sorted(r["workers_cpu_s"] for r in thousands)[len(thousands) // 2]  # s per 1,000 = ms each
        instructions = instructions_per_replication(scenario)
        print(f"per replication: workers' CPU {cpu_ms:.1f} ms (median of the runs of 1,000); "
              + (f"{instructions / 1e6:.1f}M instructions (callgrind, 12 minus 2 replications)" if instructions
                 else "instructions not counted (no valgrind)")
              + ("; budget compiled: 12 ms and 80M" if COMPILED else ""))
        print_budget(scenario, per_rep, args.workers, median)


if __name__ == "__main__":
    main()
