"""`RESIM_COMPILE=1 pip install .` compiles the model's per-event modules with mypyc (a C compiler
is needed; ~1.5 min): about 3.4x faster replications, bit-identical results (benchmarks/bench_run.py
checks both). Without it, or for an editable install, resim is plain Python."""

import os
import sys

from setuptools import setup

COMPILED = [f"src/resim/model/{m}.py" for m in
            ("clock", "stock", "luck", "makers", "market", "supply", "licensing", "domestic", "regime", "stockpile",
             "books", "coverage")]

ext_modules = []
if os.environ.get("RESIM_COMPILE") == "1" and "egg_info" not in sys.argv:  # egg_info: before mypy is there
    if "editable_wheel" in sys.argv:  # compiled copies beside the sources would shadow every edit
        sys.exit("RESIM_COMPILE=1 is for `pip install .` or a wheel, not an editable install")
    from mypyc.build import mypycify

    ext_modules = mypycify(COMPILED, opt_level="3")

setup(ext_modules=ext_modules)
