"""Load a scenario file: YAML with line numbers, `extends:` chains, dotted overrides, validation,
and resolution of `{ref: id}` parameters against `seeds/`.

Every failure becomes an `InputError` naming the file, line, field path and what is allowed.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from resim.errors import InputError, Problem
from resim.scenario import bundled
from resim.scenario.params import SPEC_CLASSES, Fixed, Pert, Ref, Triangular, Uniform
from resim.scenario.schema import Scenario
from resim.scenario.seeds import ASSUMPTION_FILES, YAML_LOADER, Figure, find_seeds_dir, load_figures
from resim.scenario.walk import iter_specs, map_specs

Key = tuple[Any, ...]
Marks = dict[Key, tuple[Path, int]]


@dataclass
class Loaded:
    """A validated, resolved scenario and where each of its fields was set."""

    scenario: Scenario
    path: Path
    files: list[Path]  # the extends chain, this file first
    marks: Marks
    figures: dict[str, Figure]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def where(self, dotted: str) -> str:
        mark = find_mark(self.marks, tuple(_key(p) for p in dotted.split(".")))
        return f"{mark[0].name}:{mark[1]}" if mark else "schema default"


@dataclass(frozen=True)
class Document:
    """A scenario's files as parsed: the merged `extends` chain, the marks of its keys and the seed
    figures it may cite. Everything `load` needs after reading files, so it can be shipped to a
    cluster worker that has none of them (a `posterior:` folder is still read where it is used)."""

    path: Path
    raw: dict[str, Any]
    marks: Marks
    files: list[Path]
    figures: dict[str, Figure]

    def load(self, overrides: dict[str, Any] | None = None) -> Loaded:
        """Validate and resolve with `overrides` set on dotted fields first (as a child file would),
        so a sweep point passes the same checks as a file."""
        path, marks = self.path, self.marks
        raw = copy.deepcopy(self.raw)
        raw.pop("extends", None)
        for dotted, value in (overrides or {}).items():
            _set_in(raw, [_key(p) for p in dotted.split(".")], _plain(value))
        scenario = _validate(raw, marks, path)
        _check_rule_names(scenario, marks, path)
        scenario = _resolve(scenario, self.figures, marks, path)
        _check_dates(scenario, marks, path)
        _check_spans(scenario, marks, path)
        _check_group_shares(scenario, marks, path)
        _check_uncertain_products(scenario, marks, path)
        scenario = _resolve_posterior(scenario, marks, path)
        return Loaded(scenario, path, self.files, marks, self.figures, raw)


def read_document(path: Path | str) -> Document:
    """Read a scenario file, the files it extends and the seeds it may cite (each file parsed once
    per version: see _read_chain)."""
    path = Path(path)
    raw, marks, files = _read_chain(path)
    seeds_dir = next((d for f in files if (d := find_seeds_dir(f.parent.resolve()))), None) or bundled.seeds_dir()
    return Document(path, raw, marks, files, _read_figures(seeds_dir) if seeds_dir else {})


def load(path: Path | str, overrides: dict[str, Any] | None = None) -> Loaded:
    """Load, validate and resolve a scenario file, with `overrides` on dotted fields."""
    return read_document(path).load(overrides)


# --- reading files once: a sweep or notebook loads the same scenario many times ----------------

_Stamp = tuple[Path, int, int]  # resolved path, modification time (ns), size: a file's version
_CHAINS: dict[Path, tuple[list[_Stamp], dict[str, Any], Marks, list[Path]]] = {}
_FIGURES: dict[Path, tuple[list[_Stamp], dict[str, Figure]]] = {}


def _stamp(path: Path) -> _Stamp:
    st = path.stat()
    return path.resolve(), st.st_mtime_ns, st.st_size


def _current(stamps: list[_Stamp]) -> bool:
    try:
        return all(_stamp(stamp[0]) == stamp for stamp in stamps)
    except OSError:
        return False


def _read_chain(path: Path) -> tuple[dict[str, Any], Marks, list[Path]]:
    """`_load_chain`, parsed once per version of its files (measured: 43 -> 13 ms per load of
    pause_ends); callers copy the document before they edit it."""
    hit = _CHAINS.get(path.resolve())
    if hit is None or not _current(hit[0]):
        raw, marks, files = _load_chain(path, [])
        hit = _CHAINS[path.resolve()] = ([_stamp(f) for f in files], raw, marks, files)
    return hit[1], hit[2], hit[3]


def _read_figures(seeds_dir: Path) -> dict[str, Figure]:
    """`load_figures`, read once per version of the seed files."""
    files = [f for f in (seeds_dir / "seed_figures.yaml", *(seeds_dir / n for n in ASSUMPTION_FILES)) if f.is_file()]
    hit = _FIGURES.get(seeds_dir.resolve())
    if hit is None or not _current(hit[0]) or len(hit[0]) != len(files):
        hit = _FIGURES[seeds_dir.resolve()] = ([_stamp(f) for f in files], load_figures(seeds_dir))
    return dict(hit[1])


# --- YAML with marks -------------------------------------------------------------------------


MAX_FILE_BYTES = 1_000_000  # a scenario is a few kB; the largest shipped file is under 20 kB
MAX_NODES = 100_000  # YAML nodes once aliases are expanded (the shipped scenarios have about 1,500)


def read_yaml(path: Path, dotted_keys: bool = True) -> tuple[dict[str, Any], Marks]:
    """A YAML mapping (dotted keys expanded into nesting unless `dotted_keys` is False) and the file
    and line of every key; refuses files over MAX_FILE_BYTES, alias
    expansions over MAX_NODES nodes (an alias bomb) and duplicate keys, with the line."""
    if not path.is_file():
        raise InputError.one(path, "file not found")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError.one(path, f"file of {size:,} bytes; allowed: at most {MAX_FILE_BYTES:,} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError.one(path, f"not a UTF-8 text file (byte {exc.start}: {exc.reason}); allowed: a YAML "
                                   "scenario saved as UTF-8") from None
    try:
        node = yaml.compose(text, Loader=YAML_LOADER)
        if node is not None:
            _check_tree(node, path)
        data = yaml.load(text, Loader=YAML_LOADER)
    except RecursionError:
        raise InputError.one(path, "nested too deeply; allowed: a scenario's few levels of mappings and "
                                   "lists") from None
    except (ValueError, OverflowError) as exc:  # a date-shaped value that is no date (2026-13-01)
        line, key = _bad_date(node) if node is not None else (None, "")
        raise InputError.one(path, f"not a valid date ({exc}); allowed: an ISO date YYYY-MM-DD", field=key,
                             line=line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark:
            problem += f" ({context} at line {context_mark.line + 1})"
        raise InputError.one(path, f"malformed YAML: {problem}", line=line) from None
    if not isinstance(data, dict):
        raise InputError.one(path, "a scenario file must be a YAML mapping of fields", line=1)
    marks: Marks = {}
    _collect_marks(node, (), path, marks)
    return (_expand_dotted(data) if dotted_keys else data), marks


def _bad_date(root: yaml.Node) -> tuple[int | None, str]:
    """The line and key of the first scalar YAML reads as a date but no calendar has."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    seen = set()
    while stack:
        node, key = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode) and node.tag.endswith(":timestamp"):
            try:
                dt.date.fromisoformat(str(node.value)[:10])
            except ValueError:
                return int(node.start_mark.line) + 1, key
        elif isinstance(node, yaml.MappingNode):
            stack.extend((v, f"{key}.{k.value}".lstrip(".")) for k, v in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{key}.{i}".lstrip(".")) for i, item in reversed(list(enumerate(node.value))))
    return None, ""


def _check_tree(root: yaml.Node, path: Path) -> None:
    """Duplicate keys, and the size of the document once aliases are expanded, counted with each
    shared node's size remembered (bounded time even for an alias bomb)."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        sizes[id(node)] = 1  # a node that refers to itself counts once
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, _ in node.value:
                key = str(key_node.value)
                if key in seen and isinstance(key_node, yaml.ScalarNode):
                    raise InputError.one(path, f"duplicate key {key!r} (first at line {seen[key]}); allowed: each key "
                                               "once per mapping", field=key, line=key_node.start_mark.line + 1)
                seen[key] = key_node.start_mark.line + 1
            n = 1 + sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            n = 1 + sum(size(item) for item in node.value)
        else:
            n = 1
        sizes[id(node)] = n
        if n > MAX_NODES:
            raise InputError.one(path, f"the document expands to more than {MAX_NODES:,} nodes (YAML aliases); "
                                       f"allowed: at most {MAX_NODES:,}", line=node.start_mark.line + 1)
        return n

    size(root)


def _collect_marks(node: yaml.Node, prefix: Key, path: Path, marks: Marks) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = prefix + tuple(_key(p) for p in str(key_node.value).split("."))
            marks[key] = (path, key_node.start_mark.line + 1)
            _collect_marks(value_node, key, path, marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            marks[prefix + (i,)] = (path, item.start_mark.line + 1)
            _collect_marks(item, prefix + (i,), path, marks)


def _plain(value: Any) -> Any:
    """A numpy scalar or 0-d array (what EMA Workbench and numpy code pass) as the Python number it holds."""
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        return item()
    return value


def _key(part: str) -> Any:
    return int(part) if part.isascii() and part.isdigit() else part


def _expand_dotted(data: Any) -> Any:
    """Turn `{"a.b": 1}` into `{"a": {"b": 1}}`, recursively."""
    if not isinstance(data, dict):
        return data
    out: dict[Any, Any] = {}
    for key, value in data.items():
        _set_in(out, [_key(p) for p in str(key).split(".")], _expand_dotted(value))
    return out


def _set_in(target: Any, keys: list[Any], value: Any) -> None:
    head, rest = keys[0], keys[1:]
    if isinstance(target, list) and isinstance(head, int) and head < len(target):
        if rest:
            _set_in(target[head], rest, value)
        else:
            target[head] = _merge(target[head], value)
        return
    if isinstance(target, dict):
        if rest:
            target.setdefault(head, {})
            _set_in(target[head], rest, value)
        else:
            target[head] = _merge(target.get(head), value)


def _merge(base: Any, override: Any) -> Any:
    """Deep-merge mappings; a key ending in `+` appends to the base's list (`regimes+: [...]`);
    anything else in `override` replaces `base`. A parameter spec (`dist:` or `ref:`) replaces
    whatever parameter it overrides as a whole."""
    if isinstance(override, dict) and ("dist" in override or "ref" in override):
        return override
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            if isinstance(k, str) and k.endswith("+") and isinstance(base.get(k[:-1]), list):
                out[k[:-1]] = base[k[:-1]] + (v if isinstance(v, list) else [v])
            else:
                out[k] = _merge(base.get(k), v)
        return out
    return override


def _appended_marks(marks: Marks, base: dict[str, Any]) -> Marks:
    """Re-key marks of `name+` list items to their index in the merged list."""
    out: Marks = {}
    for key, mark in marks.items():
        new = list(key)
        for i, part in enumerate(key):
            if isinstance(part, str) and part.endswith("+"):
                existing = _get(base, (*key[:i], part[:-1]))
                new[i] = part[:-1]
                if isinstance(existing, list) and i + 1 < len(key) and isinstance(key[i + 1], int):
                    new[i + 1] = key[i + 1] + len(existing)
        out[tuple(new)] = mark
    return out


def _load_chain(path: Path, stack: list[Path]) -> tuple[dict[str, Any], Marks, list[Path]]:
    resolved = path.resolve()
    if resolved in stack:
        cycle = " -> ".join(p.name for p in [*stack, resolved])
        raise InputError.one(path, f"`extends` forms a cycle: {cycle}", field="extends")
    data, marks = read_yaml(path)
    base_name = data.get("extends")
    if base_name is None:
        return data, marks, [path]
    if not isinstance(base_name, str):
        raise InputError.one(path, "`extends` must be a file name", "extends", marks[("extends",)][1])
    base_path = path.parent / base_name
    if not base_path.is_file():
        raise InputError.one(path, f"extends a file that does not exist: {base_path}", "extends",
                             marks[("extends",)][1])
    base, base_marks, files = _load_chain(base_path, [*stack, resolved])
    merged = dict(base)
    for key, value in data.items():
        if key != "extends":
            _set_in(merged, [key], value)
    # A replaced list or scalar takes its marks from the child only.
    for marked in marks:
        if not isinstance(_get(data, marked), dict):
            base_marks = {k: v for k, v in base_marks.items() if k[: len(marked)] != marked}
    return merged, {**base_marks, **_appended_marks(marks, base)}, [path, *files]


def _get(data: Any, key: Key) -> Any:
    for part in key:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def find_mark(marks: Marks, key: Key) -> tuple[Path, int] | None:
    for n in range(len(key), 0, -1):
        if key[:n] in marks:
            return marks[key[:n]]
    return None


# --- validation -----------------------------------------------------------------------------


def _validate(raw: dict[str, Any], marks: Marks, path: Path) -> Scenario:
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise InputError(_problems(exc, raw, marks, path)) from None


def _problems(exc: ValidationError, raw: Any, marks: Marks, path: Path) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = _data_loc(err["loc"], raw)
        mark = find_mark(marks, loc)
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            allowed = _allowed_fields(loc[:-1]) or _spec_fields(_get(raw, loc[:-1]))
            message = f"unknown field; allowed: {', '.join(allowed)}"
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


# --- reference resolution and date checks -----------------------------------------------------


def _resolve(scenario: Scenario, figures: dict[str, Figure], marks: Marks, path: Path) -> Scenario:
    problems: list[Problem] = []

    def resolve(spec: Any, where: str, _field: Any) -> Any:
        if not isinstance(spec, Ref):
            return spec
        mark = find_mark(marks, tuple(_key(p) for p in where.split(".")))
        file, line = mark if mark else (path, None)
        figure = figures.get(spec.ref)
        if figure is None:
            near = difflib.get_close_matches(spec.ref, figures, n=3)
            hint = (f"; did you mean {', '.join(near)}?" if near else "; see seeds/*.yaml for ids"
                    if figures else "; no seeds/ folder (with assumptions.yaml) was found above the file")
            problems.append(Problem(file, line, where, f"unknown seed or assumption id {spec.ref!r}{hint}"))
            return spec
        if not isinstance(figure.value, int | float):
            problems.append(Problem(file, line, where, f"{spec.ref!r} is not a number ({figure.unit})"))
            return spec
        return _spec_from_figure(figure, spec, problems, file, line, where)

    resolved = map_specs(scenario, resolve)
    if problems:
        raise InputError(problems)
    try:  # re-validate so that bounds are checked on the resolved values
        return Scenario.model_validate(resolved.model_dump(by_alias=True))
    except ValidationError as exc:
        raise InputError(_problems(exc, resolved.model_dump(by_alias=True), marks, path)) from None


def _spec_from_figure(figure: Figure, ref: Ref, problems: list[Problem], file: Path, line: int | None,
                      where: str) -> Any:
    value = float(figure.value) * ref.scale
    source = figure.id
    if ref.over_range is None:
        return Fixed(value=value, source=source)
    if figure.low is None or figure.high is None or figure.low == figure.high:
        problems.append(Problem(file, line, where, f"{figure.id!r} has no range to sample over_range"))
        return Fixed(value=value, source=source)
    low, high = figure.low * ref.scale, figure.high * ref.scale
    if ref.over_range == "uniform":
        return Uniform(dist="uniform", low=low, high=high, source=source)
    cls = Triangular if ref.over_range == "triangular" else Pert
    return cls(dist=ref.over_range, low=low, mode=value, high=high, source=source)


def _check_rule_names(scenario: Scenario, marks: Marks, path: Path) -> None:
    """Each regime change must name rule sets that exist."""
    china, problems = scenario.china, []
    allowed = ", ".join(sorted(china.rule_sets))
    for i, change in enumerate(china.regimes):
        named = [("rules", change.rules)] if change.rules else \
            [(f"outcomes.{j}.rules", o.rules) for j, o in enumerate(change.outcomes or [])]
        for where, name in named:
            if name not in china.rule_sets:
                key = ("china", "regimes", i, *(_key(p) for p in where.split(".")))
                mark = find_mark(marks, key)
                problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None,
                                        ".".join(map(str, key)), f"unknown rule set {name!r}; allowed: {allowed}"))
    if problems:
        raise InputError(problems)


SPANS_IN_DAYS = {"china.licensing.validity_days": 1.0, "suppliers.*.qualification_months": 365.25 / 12}


def _check_group_shares(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A segment's maker groups must share out all of its vehicles (the mark: a share set by this file
    if one is, else the first found)."""
    problems: list[Problem] = []
    for seg_name, seg in scenario.demand.segments.items():
        total = sum(g.share for g in seg.groups.values())
        if abs(total - 1) <= 1e-9:
            continue
        found = [m for g in seg.groups if (m := find_mark(marks, ("demand", "segments", seg_name, "groups", g,
                                                                    "share")))]
        file, line = next((m for m in found if m[0] == path), found[0] if found else (path, None))
        shares = ", ".join(f"{g} {spec.share:g}" for g, spec in seg.groups.items())
        problems.append(Problem(file, line, f"demand.segments.{seg_name}.groups",
                                f"group shares must sum to 1 (got {total:g}: {shares}); allowed: shares in [0, 1] "
                                f"summing to 1"))
    if problems:
        raise InputError(problems)


def _resolve_posterior(scenario: Scenario, marks: Marks, path: Path) -> Scenario:
    """`posterior:` is a folder relative to the file that sets it; it must be a finished calibration
    fitted on this scenario's distributions."""
    if scenario.posterior is None:
        return scenario
    from resim.scenario.posterior import check_posterior_fits  # reads Parquet: only when a scenario asks for it

    file, line = marks.get(("posterior",), (path, None))
    folder = (file.parent / scenario.posterior).resolve()
    check_posterior_fits(str(folder), scenario, file, line)
    return scenario.model_copy(update={"posterior": str(folder)})


def _check_uncertain_products(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A product a rule set may license (with a probability) cannot also be licensed or banned outright."""
    problems: list[Problem] = []
    for name, rules in scenario.china.rule_sets.items():
        for product in sorted(set(rules.may_license) & (set(rules.licensed) | set(rules.banned))):
            where = f"china.rule_sets.{name}.may_license.{product}"
            mark = find_mark(marks, tuple(_key(p) for p in where.split(".")))
            problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None, where,
                                    f"{product} is also licensed or banned outright by {name}; allowed: each product "
                                    "in at most one of licensed, banned and may_license"))
    if problems:
        raise InputError(problems)


def _check_spans(scenario: Scenario, marks: Marks, path: Path) -> None:
    """A licence validity or a qualification lag longer than the horizon is a slip, not a scenario."""
    horizon_days = (scenario.end - scenario.start).days
    problems: list[Problem] = []
    for where, spec, _ in iter_specs(scenario):
        pattern = ".".join("*" if where.startswith("suppliers.") and i == 1 else p
                           for i, p in enumerate(where.split(".")))
        if pattern not in SPANS_IN_DAYS:
            continue
        longest = spec.support()[1] * SPANS_IN_DAYS[pattern]
        if longest > horizon_days:
            mark = find_mark(marks, tuple(_key(p) for p in where.split(".")))
            problems.append(Problem(mark[0] if mark else path, mark[1] if mark else None, where,
                                    f"reaches {longest:g} days, longer than the horizon of {horizon_days} days; "
                                    f"allowed: at most {horizon_days} days"))
    if problems:
        raise InputError(problems)


def _check_dates(scenario: Scenario, marks: Marks, path: Path) -> None:
    """Dates written in the file itself must fall before the end of its horizon (inherited dates
    may lie beyond a shortened horizon: they simply take no effect)."""
    end = scenario.end
    problems: list[Problem] = []

    def walk(obj: Any, key: Key) -> None:
        if isinstance(obj, BaseModel):
            for name, info in type(obj).model_fields.items():
                walk(getattr(obj, name), key + (info.alias or name,))
        elif isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, key + (k,))
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                walk(v, key + (i,))
        elif isinstance(obj, dt.date) and obj >= end and key != ("start",):
            mark = find_mark(marks, key)
            if mark is None or mark[0] != path:
                return
            problems.append(Problem(mark[0], mark[1],
                                    ".".join(map(str, key)),
                                    f"date {obj} is outside the horizon: allowed dates are before "
                                    f"{end} (start {scenario.start} + {scenario.horizon_months} months)"))

    walk(scenario, ())
    if problems:
        raise InputError(problems)
