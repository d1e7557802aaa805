"""`python -m scaffold` runs the CLI."""

from scaffold.cli.app import run

run()
