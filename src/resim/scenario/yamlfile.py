"""Scenario YAML read safely and with marks: the file and line of every key, `extends:` chains
merged, dotted keys expanded; YAML 1.2 numbers, dates checked, size, depth and aliases bounded."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import yaml

from resim.errors import InputError


class YAML_LOADER(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # libyaml: ~10x faster
    """PyYAML's safe loader, reading numbers as YAML 1.2 does: `1e9` and `1.0e9` are floats (YAML 1.1
    wants a dot and a signed exponent, so PyYAML reads them as strings)."""


YAML_LOADER.add_implicit_resolver(  # checked after PyYAML's own int and float resolvers
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


Key = tuple[Any, ...]  # a field's path: keys and list indices
Marks = dict[Key, tuple[Path, int]]  # where each key was set: file and line


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
    inside: set[int] = set()  # the nodes being counted: meeting one again means it contains itself

    def size(node: yaml.Node) -> int:
        if id(node) in inside:
            raise InputError.one(path, "a YAML alias that contains itself; allowed: aliases to finished "
                                       "mappings and lists", line=node.start_mark.line + 1)
        if id(node) in sizes:
            return sizes[id(node)]
        inside.add(id(node))
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
        inside.discard(id(node))
        if n > MAX_NODES:
            raise InputError.one(path, f"the document expands to more than {MAX_NODES:,} nodes (YAML aliases); "
                                       f"allowed: at most {MAX_NODES:,}", line=node.start_mark.line + 1)
        return n

    size(root)


def _collect_marks(node: yaml.Node, prefix: Key, path: Path, marks: Marks) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = prefix + tuple(key_of(p) for p in str(key_node.value).split("."))
            marks[key] = (path, key_node.start_mark.line + 1)
            _collect_marks(value_node, key, path, marks)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            marks[prefix + (i,)] = (path, item.start_mark.line + 1)
            _collect_marks(item, prefix + (i,), path, marks)


def plain(value: Any) -> Any:
    """A numpy scalar or 0-d array (what EMA Workbench and numpy code pass) as the Python number it holds."""
    item = getattr(value, "item", None)
    if item is not None and getattr(value, "ndim", None) == 0:
        return item()
    return value


def key_of(part: str) -> Any:
    return int(part) if part.isascii() and part.isdigit() else part


def _expand_dotted(data: Any) -> Any:
    """Turn `{"a.b": 1}` into `{"a": {"b": 1}}`, recursively."""
    if not isinstance(data, dict):
        return data
    out: dict[Any, Any] = {}
    for key, value in data.items():
        set_in(out, [key_of(p) for p in str(key).split(".")], _expand_dotted(value))
    return out


def set_in(target: Any, keys: list[Any], value: Any) -> None:
    head, rest = keys[0], keys[1:]
    if isinstance(target, list) and isinstance(head, int) and head < len(target):
        if rest:
            set_in(target[head], rest, value)
        else:
            target[head] = _merge(target[head], value)
        return
    if isinstance(target, dict):
        if rest:
            target.setdefault(head, {})
            set_in(target[head], rest, value)
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
                existing = value_at(base, (*key[:i], part[:-1]))
                new[i] = part[:-1]
                if isinstance(existing, list) and i + 1 < len(key) and isinstance(key[i + 1], int):
                    new[i + 1] = key[i + 1] + len(existing)
        out[tuple(new)] = mark
    return out


def load_chain(path: Path, stack: list[Path]) -> tuple[dict[str, Any], Marks, list[Path]]:
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
    base, base_marks, files = load_chain(base_path, [*stack, resolved])
    merged = {k: v for k, v in base.items() if k != "title"}  # a title names its own file, never a child
    base_marks = {k: v for k, v in base_marks.items() if k[:1] != ("title",)}
    for key, value in data.items():
        if key != "extends":
            set_in(merged, [key], value)
    # A replaced list or scalar takes its marks from the child only.
    for marked in marks:
        if not isinstance(value_at(data, marked), dict):
            base_marks = {k: v for k, v in base_marks.items() if k[: len(marked)] != marked}
    return merged, {**base_marks, **_appended_marks(marks, base)}, [path, *files]


def value_at(data: Any, key: Key) -> Any:
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


def parse_value(text: str, field: str) -> Any:
    """A value given on the command line (`--set path=value`), read as YAML with the same guards."""
    if len(text) > MAX_FILE_BYTES:
        raise InputError.one(None, f"{len(text):,} characters; allowed: at most {MAX_FILE_BYTES:,}", field=field)
    try:
        node = yaml.compose(text, Loader=YAML_LOADER)
        if node is not None:
            _check_tree(node, Path("<command line>"))
        return yaml.load(text, Loader=YAML_LOADER)
    except (ValueError, OverflowError, RecursionError) as exc:
        raise InputError.one(None, f"{text!r} is not a valid value ({exc}); allowed: a number, an ISO date "
                                   "YYYY-MM-DD, or YAML such as [1, 2]", field=field) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError.one(None, f"{text!r} is not valid YAML ({problem}); allowed: a number, an ISO date "
                                   "YYYY-MM-DD, or YAML such as [1, 2]", field=field) from None
