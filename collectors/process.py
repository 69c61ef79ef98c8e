"""Provides how gongwatch runs other programs: a minimal environment, a process group of their
own, and a deadline that ends the whole group, so no secret crosses and nothing is left behind."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

KEPT = ("PATH", "HOME", "TZ", "LANG", "LANGUAGE")
"""Variables a child inherits from gongwatch's own environment (with every ``LC_*``)."""

TERM_GRACE = 1.0
"""Seconds a timed-out group gets between SIGTERM and SIGKILL (sudo passes SIGTERM on)."""


def child_environment(
    extra: Mapping[str, str] | None = None, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment of a child: the locale, PATH, HOME and TZ, and nothing else.

    Everything else (API tokens named by ``token_env``, passwords, session variables) stays in
    gongwatch; a child that needs more gets it through ``extra``.

    Args:
        extra: variables this child specifically needs; they override the inherited ones.
        base: the environment to pick from (``os.environ`` by default).
    """
    source = os.environ if base is None else base
    env = {k: v for k, v in source.items() if k in KEPT or k.startswith("LC_")}
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class Finished:
    """What a child printed and how it ended."""

    stdout: bytes
    stderr: bytes
    returncode: int


class ChildTimeout(subprocess.TimeoutExpired):
    """A child outlived its deadline; it and every process it started have been ended."""


def run(
    argv: Sequence[str],
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> Finished:
    """Run a program to completion with a deadline, in a session of its own.

    The child leads a new process group, so a wrapper (``sudo -n smartctl``, a shell script)
    and whatever it started are ended together when the deadline passes: SIGTERM to the
    group, then SIGKILL to what is left. The child reads nothing (stdin is /dev/null).

    Args:
        argv: the program and its arguments (never run through a shell).
        timeout: seconds the child may take.
        env: its whole environment; ``child_environment()`` when None.

    Raises:
        ChildTimeout: the deadline passed (the group has been ended).
        OSError: the program could not be started (not found, not executable).
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else child_environment(),
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end_group(proc)
        raise ChildTimeout(list(argv), timeout) from None
    except BaseException:
        # Unwinding (an interrupt): the group must not outlive the call either.
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return Finished(out, err, proc.returncode)


def _end_group(proc: subprocess.Popen[bytes]) -> None:
    """End the child's group: SIGTERM, a short grace, then SIGKILL; reap the leader."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.communicate(timeout=TERM_GRACE)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        try:
            proc.communicate(timeout=TERM_GRACE)
        except subprocess.TimeoutExpired:
            # A process that left our group, or one we may not signal (root's, under sudo),
            # keeps the pipes open: stop reading them. subprocess reaps the leader once it
            # ends (at a later Popen), so no zombie stays either.
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass  # the group has already ended: nothing is left to stop
    except PermissionError:
        pass  # a member became another user's (sudo): it gets SIGHUP when its session ends
