"""The architecture of docs/architecture.md, checked: stages import only downwards, the model reads no
file, only the CLI prints. Read from the source (AST), so a new arrow against the order fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# Bottom to top; a module may import its own stage and those below it (docs/architecture.md).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("foundations", ("resim", "resim.errors", "resim.folders", "resim.plots")),
    ("scenario", ("resim.scenario",)),
    ("model", ("resim.model",)),
    ("montecarlo", ("resim.montecarlo",)),
    ("results", ("resim.results",)),
    ("analysis", ("resim.analysis",)),
    ("report", ("resim.report",)),
    ("pipeline", ("resim.pipeline",)),
    ("cli", ("resim.cli", "resim.__main__")),
]


def stage_of(module: str) -> int:
    """The index in STAGES of the stage a dotted module name belongs to (the longest prefix wins)."""
    best, best_len = -1, -1
    for i, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > best_len:
                best, best_len = i, len(prefix)
    if best < 0:
        raise AssertionError(f"{module} is in no stage: add it to STAGES and docs/architecture.md")
    return best


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    out = {}
    for path in sorted((SRC / "resim").rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if "data" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def imported(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, module) for every resim module that `module` imports, at any depth of the file.

    `from resim.x import y` counts as importing resim.x.y when y is a module, else resim.x."""
    known = modules()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "resim"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "resim":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append((node.lineno, sub if sub in known else base))
    return out


def arrows_against_the_order() -> list[str]:
    bad = []
    for module, path in modules().items():
        here = stage_of(module)
        for line, target in imported(module, path):
            if stage_of(target) > here:
                bad.append(f"{path.relative_to(SRC)}:{line}: {module} ({STAGES[here][0]}) imports {target} "
                           f"({STAGES[stage_of(target)][0]}), a later stage")
    return bad


def test_every_import_goes_down_the_stages() -> None:
    assert arrows_against_the_order() == []


def test_the_rule_catches_an_arrow_against_the_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the checker itself must be able to fail: a copy of the package whose model imports the CLI
    copy = tmp_path / "src"
    for path in modules().values():
        target = copy / path.relative_to(SRC)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    stock = copy / "resim" / "model" / "stock.py"
    stock.write_text(stock.read_text() + "\nfrom resim.cli import app  # noqa\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["SRC"]), "SRC", copy)
    bad = arrows_against_the_order()
    assert len(bad) == 1 and "resim.model.stock (model) imports resim.cli (cli)" in bad[0]


def calls(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every call by plain or attribute name in a file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            out.append((node.lineno, name))
    return out


def test_only_the_cli_prints() -> None:
    printing = {"print", "echo", "secho"}
    found = [f"{path.relative_to(SRC)}:{line}: {name}()" for module, path in modules().items()
             if stage_of(module) != len(STAGES) - 1 for line, name in calls(path) if name in printing]
    assert found == []


def test_the_model_reads_no_file() -> None:
    reading = {"open", "read_text", "read_bytes", "safe_load", "load", "read_table", "read_posterior"}
    found = [f"{path.relative_to(SRC)}:{line}: {name}()" for module, path in modules().items()
             if module.startswith("resim.model") for line, name in calls(path) if name in reading]
    assert found == []
