"""The SimPy model of magnet supply to India's EV makers: one mechanism per module."""

from resim.model.books import ConservationError
from resim.model.floats import COMPILED  # the per-event modules were compiled with mypyc (setup.py)
from resim.model.simulation import columns, simulate

__all__ = ["simulate", "columns", "ConservationError", "COMPILED"]
