"""The build backend: setuptools, plus mypy for a wheel (`pip install .`), whose model modules are
compiled with mypyc unless `RESIM_COMPILE=0` (see setup.py). An editable install is plain Python
and needs nothing more than setuptools."""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the standard hooks, unchanged)

COMPILER = ["mypy>=1.10", "pydantic>=2.6", "numpy>=1.26"]  # mypy reads the types of what the model imports


def get_requires_for_build_wheel(config_settings=None):  # type: ignore[no-untyped-def]
    compiler = [] if os.environ.get("RESIM_COMPILE") == "0" else COMPILER
    return _setuptools.get_requires_for_build_wheel(config_settings) + compiler
