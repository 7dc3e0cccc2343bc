"""``python -m prcore`` runs the command line."""

from prcore.cli import run

run()
