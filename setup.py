"""`pip install .` (or a wheel) compiles the model's per-event modules with mypyc when a C compiler
is present (about 1.5 min): about 3.4x faster replications, bit-identical results
(benchmarks/digests.py checks both builds). Without a compiler, with `RESIM_COMPILE=0`, or for an
editable install (`pip install -e .`, for contributors), resim is plain Python; `resim --version`
says which build runs."""

import os
import shutil
import sys
import sysconfig

from setuptools import setup

COMPILED = [f"src/resim/model/{m}.py" for m in
            ("clock", "stock", "luck", "makers", "market", "supply", "licensing", "domestic", "regime", "stockpile",
             "books", "coverage")] + ["src/resim/scenario/quantile.py"]


def compiling() -> bool:
    """Build the compiled modules? Not for metadata or an editable install, nor when asked not to, nor
    without a C compiler (then say so: the install goes on as plain Python)."""
    if "egg_info" in sys.argv or "dist_info" in sys.argv or os.environ.get("RESIM_COMPILE") == "0":
        return False
    if "editable_wheel" in sys.argv:  # compiled copies beside the sources would shadow every edit
        if os.environ.get("RESIM_COMPILE") == "1":
            sys.exit("RESIM_COMPILE=1 is for `pip install .` or a wheel, not an editable install")
        return False
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        print(f"resim: no C compiler ({compiler}) found: installing plain Python, about 3-4x slower a replication "
              "(docs/performance.md)", file=sys.stderr)
        return False
    return True


ext_modules = []
if compiling():
    from mypyc.build import mypycify

    ext_modules = mypycify(COMPILED, opt_level="3")

setup(ext_modules=ext_modules)
