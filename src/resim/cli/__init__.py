"""The command line: `commands` (options, a pipeline call, a view), `views` (what is shown; the only
printing in resim) and `exits` (exit codes, errors as one screen)."""

from resim.cli.commands import app

__all__ = ["app"]
