"""Exit codes, and the one place that turns what went wrong into one screen and an exit code:
0 done, 1 a failure mid-run, 2 bad input, 3 a failed model check, 130 interrupted; never a traceback."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from pydantic import ValidationError
from rich.markup import escape

from resim.cli import views
from resim.errors import InputError, TaskFailed
from resim.model import ConservationError

DONE, FAILED, BAD_INPUT, CHECK_FAILED, INTERRUPTED_EXIT = 0, 1, 2, 3, 130

INTERRUPTED = {  # what an interrupted command kept, and how to go on
    "run": "the run was not written (its hidden staging folder was removed); run it again",
    "sweep_command": "finished points are kept; resim sweep --resume <its folder> (printed above) finishes it",
    "calibrate": "finished draws are kept; resim calibrate --resume <its folder> (printed above) finishes it",
    "sensitivity_command": "finished batches are kept; resim sensitivity --resume <its folder> (printed above) "
    "finishes it",
}


def _terminate_like_ctrl_c(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


F = TypeVar("F", bound=Callable[..., Any])


def exit_codes(command: F) -> F:
    """Show input errors in one screen with exit code 2, never a traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        views.reset()
        signal.signal(signal.SIGTERM, _terminate_like_ctrl_c)  # the same clean exit as Ctrl-C
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            views.err.print(f"[bold red]error:[/] {len(exc.problems)} problem(s) in the input", highlight=False)
            for problem in exc.problems:
                views.err.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(BAD_INPUT) from None
        except ValidationError as exc:  # options checked by a model (e.g. a sweep built from --vary and --design)
            views.err.print(f"[bold red]error:[/] {exc.error_count()} problem(s) in the options", highlight=False)
            for e in exc.errors():
                views.err.print(
                    f"  {'--' + '.'.join(map(str, e['loc'])) if e['loc'] else 'the options together'}: "
                    f"{e['msg'].removeprefix('Value error, ')}",
                    highlight=False,
                    markup=False,
                    soft_wrap=True,
                )
            raise typer.Exit(BAD_INPUT) from None
        except TaskFailed as exc:  # a replication chunk, sweep point, calibration draw or analysis batch failed
            views.err.print(
                f"[bold red]stopped:[/] {escape(str(exc))}" + (f"\n{exc.resume}" if exc.resume else ""),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(FAILED) from None
        except ConservationError as exc:
            views.err.print(f"[bold red]model check failed:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(CHECK_FAILED) from None
        except OSError as exc:  # the file system failed mid-way (disk full, folder removed): nothing looks whole
            views.err.print(
                f"[bold red]file system error:[/] {escape(str(exc))}; nothing that looks finished was left behind",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(FAILED) from None
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (turned into this by _terminate_like_ctrl_c)
            views.err.print(
                f"interrupted: {INTERRUPTED.get(command.__name__, 'nothing was written')}",
                highlight=False,
                soft_wrap=True,
            )
            # the worker pool's teardown may still write to a pipe closed by the interrupt; that is
            # noise after the one line the user was promised ("Exception ignored in: ... _send")
            sys.unraisablehook = lambda _unraisable: None
            raise typer.Exit(INTERRUPTED_EXIT) from None

    return wrapper  # type: ignore[return-value]
