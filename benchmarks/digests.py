"""Series digests of every shipped scenario: the proof that a change left behaviour unchanged.

Runs the first replications of each scenario in `scenarios/` in this process and prints a short
SHA-256 of their monthly series, one line a scenario. Run it before and after a refactor (and in the
plain and the compiled build): equal lines mean bit-identical results.

    python benchmarks/digests.py                  # 8 replications a scenario
    python benchmarks/digests.py -n 20 > before.txt
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from resim.model import COMPILED
from resim.montecarlo.runner import run_one
from resim.scenario.loader import load

REPO = Path(__file__).resolve().parents[1]


def series_digest(scenario_file: Path, replications: int) -> str:
    """First 16 hex digits of the SHA-256 of replications 0..n-1's series, in order."""
    scenario = load(scenario_file).scenario
    digest = hashlib.sha256()
    for i in range(replications):
        digest.update(run_one(scenario, scenario.seed, i).series.tobytes())
    return digest.hexdigest()[:16]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="replications a scenario")
    args = parser.parse_args()
    print(f"# build: {'compiled' if COMPILED else 'plain'}; {args.n} replications a scenario")
    for path in sorted((REPO / "scenarios").rglob("*.yaml")):
        print(f"{path.relative_to(REPO)}  {series_digest(path, args.n)}")


if __name__ == "__main__":
    main()
