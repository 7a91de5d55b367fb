"""Stage 4, results: the column dictionary, statistics with their intervals, and results on disk (written and read)."""
