"""`python -m resim.cli ...` is the `resim` command."""

from resim.cli import app

app(prog_name="resim")
