"""Benchmark `resim sweep`: throughput with 1 and 2 workers and the parallel efficiency, the
100-point x 100-replication sweep of pause_ends (goal: under 2 minutes on 2 cores), and peak memory
for 100- and 1,000-point sweeps (goal: flat in the number of points; each point goes to disk).

    python benchmarks/bench_sweep.py           # about 4 minutes on 2 cores
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "pause_ends.yaml"


def sweep(points: int, replications: int, workers: int) -> dict[str, float]:
    """Run a Latin-hypercube sweep through the CLI in a fresh process: wall time and peak RSS."""
    code = f"""
import json, resource, sys, time
from typer.testing import CliRunner
from resim.cli import app
args = ["sweep", {str(SCENARIO)!r}, "--vary", "china.licensing.approval_probability=0.05:0.6",
        "--vary", "demand.inventory_cover_weeks=2:6", "--design", "lhs", "--points", "{points}",
        "-n", "{replications}", "-w", "{workers}", "--results", sys.argv[1]]
t = time.perf_counter()
result = CliRunner().invoke(app, args)
wall = time.perf_counter() - t
assert result.exit_code == 0, result.output
print(json.dumps({{"wall_s": wall, "main_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}}))
"""
    with tempfile.TemporaryDirectory() as results:
        out = subprocess.run([sys.executable, "-c", code, results], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    print("scenario: pause_ends (60 months); Latin hypercube over 2 parameters")
    rates = {}
    for workers in (1, 2):
        r = sweep(40, 50, workers)
        rates[workers] = 40 * 50 / r["wall_s"]
        print(f"40 points x 50 replications, {workers} worker(s): {r['wall_s']:5.1f} s, "
              f"{rates[workers]:6.1f} point-replications/s")
    print(f"parallel efficiency on 2 workers: {rates[2] / rates[1]:.2f}x (goal >= 1.8x)")
    r = sweep(100, 100, 2)
    print(f"100 points x 100 replications, 2 workers: {r['wall_s']:.1f} s (goal < 120 s)")
    for points in (100, 1000):
        r = sweep(points, 2, 2)
        print(f"{points:>5} points x 2 replications: {r['wall_s']:5.1f} s, peak RSS main {r['main_peak_mib']:.0f} MiB, "
              f"largest worker {r['worker_peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
