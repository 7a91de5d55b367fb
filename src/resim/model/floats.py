"""Small fixed-length float arrays (a buyer's stock, need, use and orders by grade; contracts by
month): unboxed doubles when the model is compiled, plain lists when it is not. Speed only: see
docs/performance.md."""

from __future__ import annotations

from importlib.util import find_spec

from librt.vecs import vec

_spec = find_spec("resim.model.stock")
COMPILED = _spec is not None and not str(_spec.origin).endswith(".py")  # setup.py compiles the model's modules


def floats(values: list[float]) -> vec[float]:
    """`values` as the array type of this build (both index, iterate and sum alike)."""
    return vec[float](values) if COMPILED else values  # type: ignore[return-value]
