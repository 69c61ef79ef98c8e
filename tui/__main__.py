"""Provides ``python -m tui``, the same as the ``gongwatch`` command."""

import sys

from engine.cli import run

sys.exit(run())
