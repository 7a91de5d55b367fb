"""Walk a validated scenario and visit or replace each parameter spec, with its dotted path.

One walker serves reference resolution (Ref -> spec), world sampling (spec -> float), and the
`resim sources` listing, so all three agree on what a parameter and its path are.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from resim.scenario.params import PerEvent, Ref, _Spec

Visitor = Callable[[Any, str, FieldInfo | None], Any]


def is_per_event(field: FieldInfo | None) -> bool:
    return field is not None and any(isinstance(m, PerEvent) for m in field.metadata)


def map_specs(obj: Any, fn: Visitor, path: str = "", field: FieldInfo | None = None,
              within: Container[str] | None = None) -> Any:
    """Return a copy of `obj` with every spec or Ref replaced by fn(spec, path, field). With `within`,
    only the parts at those paths are walked (the rest is returned as it is)."""
    if within is not None and path not in within:
        return obj
    if isinstance(obj, _Spec | Ref):
        return fn(obj, path, field)
    if isinstance(obj, BaseModel):
        updates = {}
        for name, info in type(obj).model_fields.items():
            child = _join(path, info.alias or name)
            if within is not None and child not in within:  # checked before the call: 15% of a world's draw
                continue
            value = getattr(obj, name)
            new = map_specs(value, fn, child, info, within)
            if new is not value:
                updates[name] = new
        return obj.model_copy(update=updates) if updates else obj
    if isinstance(obj, dict):
        new_items = {k: map_specs(v, fn, _join(path, k), field, within) for k, v in obj.items()}
        changed = any(new_items[k] is not obj[k] for k in obj)
        return new_items if changed else obj
    if isinstance(obj, list):
        new_list = [map_specs(v, fn, f"{path}.{i}", field, within) for i, v in enumerate(obj)]
        changed = any(a is not b for a, b in zip(new_list, obj, strict=True))
        return new_list if changed else obj
    return obj


def iter_specs(obj: Any) -> Iterator[tuple[str, Any, FieldInfo | None]]:
    """Yield (path, spec, field) for every parameter in `obj`, in schema order."""
    found: list[tuple[str, Any, FieldInfo | None]] = []

    def visit(spec: Any, path: str, field: FieldInfo | None) -> Any:
        found.append((path, spec, field))
        return spec

    map_specs(obj, visit)
    yield from found


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
