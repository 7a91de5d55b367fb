"""Per-event luck: draws keyed by when an event happens (a calendar week; for licences, the
file's number) and who it concerns (a slot), not by the order in which events happen, so
replication i of two scenarios shares its luck event by event wherever they agree (common random
numbers)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from resim.model.clock import week_of
from resim.model.streams import event_rng
from resim.scenario.params import _Spec


class KeyedDraws:
    """One component's draws of `spec` (None: plain uniforms) for each period and slot (e.g. a
    licence file's applicant and attempt), from the component's own stream: the uniforms of a
    [period, slot] array filled row by row. A single-slot stream's values (a route's weeks) are drawn
    when first used, by one vectorised inverse CDF; a multi-slot stream (licence files) draws a
    period's row only when it is used, as a replication uses ~20 of its 384 (the same floats as the
    whole array, tested), and a value's inverse CDF only when it is used."""

    def __init__(self, spec: _Spec | None, seed: int, replication: int, component: str, periods: int,
                 slots: int = 1, scale: float = 1.0, spread: float = 1.0):
        self.spec, self.stream, self.shape = spec, (seed, replication, component), (periods, slots)
        self.quantile = None if spec is None else spec.quantile()  # its inverse CDF at one uniform
        self.scale = scale  # this world's multiplier on the spec's values (not on plain uniforms)
        self.spread = spread  # and its factor on their spread around the median (_Spec.widened)
        self.uniforms: np.ndarray | None = None  # a single-slot stream's [period, slot], drawn on first use
        self.rows: dict[int, Any] = {}  # a multi-slot stream's rows drawn so far, as memoryviews of doubles
        self.bits: Any = None  # and its bit generator, set back to `start` to draw a row at its place in the stream
        self.start: Mapping[str, Any] = {}
        self.values: list[list[float] | None] = [None] * slots  # [slot][period], NaN until computed
        if spec is not None and spec.is_fixed:
            self.values = [[spec.support()[0] * scale] * periods] * slots

    def draw(self, period: int, slot: int = 0) -> float:
        # speed: a licence verdict's uniform is read from a memoryview, with no numpy scalar and nothing
        # to cache: -2.3% instructions a replication of pause_ends (120 months), 283.7M -> 277.3M, the same floats
        if self.spec is None and self.shape[1] > 1:
            return self._uniform(period % self.shape[0], slot)
        values = self.values[slot]
        if values is None:
            values = self.values[slot] = self._slot_values(slot)
        i = period % self.shape[0]  # a licence file numbered past the stream's length wraps
        value = values[i]
        if math.isnan(value):
            value = values[i] = self._value(i, slot)
        return value

    def _slot_values(self, slot: int) -> list[float]:
        """A slot's values for every period, or NaN for each to be computed when used."""
        if self.shape[1] > 1:
            return [math.nan] * self.shape[0]
        u = self._uniforms()[:, slot]
        return (u if self.spec is None else self._days(self.spec.ppf(u))).tolist()

    def _value(self, period: int, slot: int) -> float:
        """A multi-slot stream's value of its spec (a licence delay; plain uniforms are read in `draw`)."""
        quantile = self.quantile
        assert quantile is not None
        value = quantile.at(self._uniform(period, slot))
        return value * self.scale if self.spread == 1.0 else float(self._days(value))

    def _days(self, values: Any) -> Any:
        """The spec's values in this world: widened by `spread`, then times `scale`."""
        spec = self.spec
        assert spec is not None
        if self.spread == 1.0:  # speed: no call into the (interpreted) spec per licence draw: -1.2%, 287.0M -> 283.7M
            return values * self.scale
        return spec.widened(values, self.spread) * self.scale

    def _uniform(self, period: int, slot: int) -> float:
        row = self.rows.get(period)
        if row is None:
            row = self.rows[period] = self._row(period)
        return float(row[slot])

    def _row(self, period: int) -> Any:
        """Row `period` of the [period, slot] uniforms, drawn alone: each double takes one step of the
        stream, so the row starts `period x slots` steps in (speed: a replication uses ~20 of a licence
        stream's 384 rows; -4.0% instructions a replication of
        pause_ends over 120 months, 278.7M -> 267.5M, the same floats)."""
        bits = self.bits
        if bits is None:
            bits = self.bits = event_rng(*self.stream).bit_generator
            self.start = bits.state
        else:
            bits.state = self.start
        bits.advance(period * self.shape[1])
        return np.random.Generator(bits).random(self.shape[1]).data

    def _uniforms(self) -> np.ndarray:
        if self.uniforms is None:
            self.uniforms = event_rng(*self.stream).random(self.shape)
        return self.uniforms


class Keyed:
    """A route's per-event draws keyed by calendar week: whatever is dispatched on the route in the
    same week shares its processing or transit time (one customs queue, one sailing), for every
    buyer and in every scenario run with the same seed, whatever happened before it (common random
    numbers that survive one scenario ordering more, or more often, than another)."""

    __slots__ = ("draws",)

    def __init__(self, draws: KeyedDraws):
        self.draws = draws

    def at(self, day: float) -> float:
        """The draw for an event on `day`."""  # speed: a method, not __call__ (docs/performance.md)
        return self.draws.draw(week_of(day))
