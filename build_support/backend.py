"""The build backend: setuptools, plus mypy when `RESIM_COMPILE=1` asks for the model's modules to be
compiled with mypyc (see setup.py). A plain install needs nothing more than setuptools."""

from __future__ import annotations

import os

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the standard hooks, unchanged)

COMPILER = ["mypy>=1.10", "pydantic>=2.6", "numpy>=1.26"]  # mypy reads the types of what the model imports


def _compiler() -> list[str]:
    return COMPILER if os.environ.get("RESIM_COMPILE") == "1" else []


def get_requires_for_build_wheel(config_settings=None):  # type: ignore[no-untyped-def]
    return _setuptools.get_requires_for_build_wheel(config_settings) + _compiler()


def get_requires_for_build_editable(config_settings=None):  # type: ignore[no-untyped-def]
    return _setuptools.get_requires_for_build_editable(config_settings) + _compiler()
