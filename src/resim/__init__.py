"""resim: Monte Carlo discrete-event model of rare-earth magnet supply risk for India's EV makers."""

__version__ = "0.1.0"
