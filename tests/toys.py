"""Test functions with known Sobol indices, as functions of a row of uniforms on [0, 1)."""

from __future__ import annotations

import math

import numpy as np

A, B = 7.0, 0.1  # the Ishigami function's usual constants
LINEAR = (1.0, 2.0, 3.0, 0.0)  # coefficients of the additive toy


def ishigami(u: np.ndarray) -> dict[str, float]:
    x1, x2, x3 = (math.pi * (2 * v - 1) for v in u)  # each uniform on [-pi, pi]
    return {"y": math.sin(x1) + A * math.sin(x2) ** 2 + B * x3**4 * math.sin(x1)}


def linear(u: np.ndarray) -> dict[str, float]:
    return {"y": float(np.dot(LINEAR, u))}
