"""Provides the collectors: every conversation of gongwatch with the outside world.

httpx imports its own command line (click, pygments, Rich's progress bars and syntax
highlighting) whenever those are installed, as they are beside Textual: about 6 MiB of RSS that
gongwatch never runs. Every module of ours that imports httpx comes here first (the engine's
through ``collectors.base``); a None in ``sys.modules`` makes that one import fail, and httpx
then does without its command line, as it does where click is not installed.
"""

import sys

sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]  # None: "not importable"
