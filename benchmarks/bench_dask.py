"""Benchmark `resim run --dask` against local processes: the same replications of pause_ends, on a
2-worker dask.distributed LocalCluster (one thread each, on 127.0.0.1) and on 2 local processes,
in alternating order, with bare SimPy's event rate measured before each run for how busy the host
is. Both give bit-identical results (tested in tests/test_cli.py); this shows what the cluster costs.

    python benchmarks/bench_dask.py                       # 1,000 replications, three rounds
    python benchmarks/bench_dask.py --replications 200 --rounds 1

Goal (issue "Speed where users are", item 2): --dask within 15% of local processes for 1,000
replications. Wall times on a shared host vary with its load; the ratio within one round is the
figure, and CPU seconds of this process show the main side's share.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from bench_run import bare_simpy_events_per_s

from resim.model import COMPILED
from resim.pipeline import run_scenario

REPO = Path(__file__).resolve().parents[1]


def timed_run(scenario: Path, replications: int, results: Path, dask: str | None) -> tuple[float, float]:
    """(wall s, CPU s of this process) of one run."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    run_scenario(scenario, replications=replications, workers=2, results=results, dask_scheduler=dask)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from dask.distributed import LocalCluster

    scenario = REPO / "scenarios" / "pause_ends.yaml"
    print(f"pause_ends, {args.replications:,} replications, 2 workers; model "
          f"{'compiled with mypyc' if COMPILED else 'plain Python'}")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, tempfile.TemporaryDirectory() as tmp:
        timed_run(scenario, 4, Path(tmp), cluster.scheduler_address)  # warm the workers' imports
        ratios = []
        for round_ in range(args.rounds):
            order = ["local", "dask"] if round_ % 2 == 0 else ["dask", "local"]
            walls = {}
            for how in order:
                bare = bare_simpy_events_per_s()
                wall, cpu = timed_run(scenario, args.replications, Path(tmp),
                                      cluster.scheduler_address if how == "dask" else None)
                walls[how] = wall
                print(f"  round {round_ + 1} {how:>5}: {wall:6.1f} s wall, main process CPU {cpu:5.1f} s "
                      f"(bare SimPy {bare:,.0f} events/s)")
            ratios.append(walls["dask"] / walls["local"])
            print(f"  round {round_ + 1}: --dask / local = {ratios[-1]:.2f}")
    ratios.sort()
    print(f"median --dask / local: {ratios[len(ratios) // 2]:.2f} (goal: 1.15 or less)")


if __name__ == "__main__":
    main()
