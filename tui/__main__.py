"""Provides ``python -m tui``, the same as the ``gongwatch`` command."""

import sys

from tui.cli import run

sys.exit(run())
