"""User-facing input errors: each names the file, the line where known, the field and what is allowed."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Problem:
    file: Path | None
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<input>"
        if self.line:
            where += f":{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputError(Exception):
    """Bad user input. The CLI prints it without a traceback and exits with code 2."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self):
        return (InputError, (self.problems,))  # survives the trip back from a worker process

    @classmethod
    def one(cls, file: Path | None, message: str, field: str = "", line: int | None = None) -> InputError:
        return cls([Problem(file, line, field, message)])


def optional(module: str, extra: str) -> Any:
    """Import an optional dependency, or raise an input error naming the extra that installs it.
    Warnings a library gives on import (EMA Workbench's about its own optional parts) are not the
    user's business and are silenced."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError:
        raise InputError.one(None, f"this needs {module.split('.')[0]}, which is not installed; allowed: "
                                   f"pip install 'resim[{extra}]' (or pip install --group dev)", field=extra) from None


class ResimWarning(UserWarning):
    """A result that stands but needs a caveat (e.g. sensitivity intervals too wide to rank, a
    precision target not reached). Python callers get it through `warnings` (and `logging` with
    `logging.captureWarnings`); the CLI prints the same text in its own view."""


class TaskFailed(RuntimeError):
    """A task of a sweep, calibration or analysis failed (or a cluster stopped answering); the
    work stopped. `resume` says what was kept and how to go on."""

    def __init__(self, message: str, resume: str = ""):
        super().__init__(message)
        self.resume = resume

    def __reduce__(self):
        return (TaskFailed, (str(self), self.resume))  # survives the trip back from a worker process
