"""The SimPy model of magnet supply to India's EV makers: one mechanism per module."""

from resim.model import stock
from resim.model.simulation import ConservationError, columns, simulate

COMPILED = not stock.__file__.endswith(".py")  # the per-event modules were compiled with mypyc (setup.py)

__all__ = ["simulate", "columns", "ConservationError", "COMPILED"]
