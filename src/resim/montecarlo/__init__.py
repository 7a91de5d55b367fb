"""Stage 3, Monte Carlo: each replication's drawn world, and replications run on local processes or Dask."""
