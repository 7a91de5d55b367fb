"""Pydantic's validation errors explained as resim's one-screen problems: the file and line of
the field, its dotted path, and what is allowed (the fields a section has, the forms a number takes)."""

from __future__ import annotations

import difflib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from resim.errors import InputError, Problem
from resim.scenario.params import SPEC_CLASSES, Ref
from resim.scenario.schema import Scenario
from resim.scenario.yamlfile import Key, Marks, find_mark, value_at


def validate(raw: dict[str, Any], marks: Marks, path: Path) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(problems_of(exc, raw, marks, path)) from None


def problems_of(exc: ValidationError, raw: Any, marks: Marks, path: Path) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = _data_loc(err["loc"], raw)
        mark = find_mark(marks, loc)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _allowed_fields(loc[:-1]) or _spec_fields(value_at(raw, loc[:-1]))
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            message = (f"unknown field; did you mean {close[0]!r}? " if close else "unknown field; ") + \
                f"allowed: {', '.join(allowed)}"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif "input" in err and not isinstance(err["input"], dict | list) and "; got " not in message:
            message += f" (got {err['input']!r})"  # unless the validator's message already says what it got
        problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None,
                                ".".join(map(str, loc)), message.removeprefix("Value error, ")))
    return problems[:12]


def _data_loc(loc: tuple[Any, ...], raw: Any) -> Key:
    """Drop pydantic's union-tag elements from an error location, keeping real data keys."""
    out: list[Any] = []
    node = raw
    for part in loc:
        if isinstance(node, dict) and part not in node and isinstance(part, str) and out and \
                not _is_field(out, part):
            continue
        out.append(part)
        node = node.get(part) if isinstance(node, dict) else (
            node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else None)
    return tuple(out)


def _is_field(loc: list[Any], name: str) -> bool:
    return name in _allowed_fields(tuple(loc))


def _allowed_fields(loc: Key) -> list[str]:
    """Field names allowed at `loc` in the scenario schema."""
    tp: Any = Scenario
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            info = next((f for n, f in tp.model_fields.items() if (f.alias or n) == part), None)
            if info is None:
                return []
            tp = info.annotation
        elif typing.get_origin(tp) in (dict, list):
            tp = typing.get_args(tp)[-1]
        else:
            return []
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or n for n, f in tp.model_fields.items()]
    return []


def _spec_fields(spec: Any) -> list[str]:
    """Fields allowed in a parameter spec written as a mapping (`{ref: ...}` or `{dist: ...}`)."""
    if not isinstance(spec, dict):
        return []
    cls = Ref if "ref" in spec else SPEC_CLASSES.get(str(spec.get("dist")))
    return list(cls.model_fields) if cls else []


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, __import__("types").UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
