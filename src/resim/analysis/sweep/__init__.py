"""Parameter sweeps: many points of one scenario, each a set of dotted-path overrides, each run
with the same replications (seed and indices), so that differences between points are not noise
(common random numbers).

Designs: a full grid (itertools.product), Latin hypercube and Sobol (scipy.stats.qmc), and the
Saltelli and Morris designs of SALib. Points run on local processes, or on a dask.distributed
cluster (`--dask SCHEDULER_ADDRESS`). Each point's
outcomes go to disk as the point finishes (`points/<index>.parquet`), so a killed sweep loses at most
the points in flight and `--resume` finishes it; `points.parquet` appears only when all are done.
A worker's error stops the sweep at once, naming the point.

Python API: `evaluate(scenario_file, overrides, replications, seed)` returns per-replication outcome
arrays for one point, for other exploratory-modelling tools to drive.
"""

from resim.analysis.sweep.designs import design_points
from resim.analysis.sweep.job import SWEEP_KEYS, SweepError, analyze, check_resumable, run, start, sweep
from resim.analysis.sweep.points import POINT_OUTCOMES, evaluate, outcomes_of, summarise
from resim.analysis.sweep.spec import Range, SweepSpec, Values, check_spec, load_spec, parse_vary

__all__ = ["POINT_OUTCOMES", "Range", "Values", "SweepSpec", "SweepError", "SWEEP_KEYS", "analyze",
           "check_resumable", "check_spec", "design_points", "evaluate", "load_spec", "outcomes_of", "parse_vary",
           "run", "start", "summarise", "sweep"]
