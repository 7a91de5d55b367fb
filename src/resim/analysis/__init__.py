"""Stage 5, analysis: comparisons, sweeps, sensitivity, calibration, discovery and the oracles."""
