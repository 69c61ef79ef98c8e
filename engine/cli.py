"""Provides the ``gongwatch`` command line: it parses arguments, builds config, and dispatches."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from collectors.base import Batch, Collector, json_line, printable
from engine.arenas import limit_arenas
from engine.config import Config, ConfigError
from engine.config_reader import load
from engine.tls import defer_ssl

ONCE_TIMEOUT = 60.0
"""Seconds ``gongwatch once`` waits for the slowest source before it gives up on it."""
TUI_ENTRY = "tui.app"
"""The module whose ``run_app(config, warnings, attach_only, view=...)`` runs the monitor's
screen."""
WARMUP = 0.5
"""Seconds ``once`` waits before polling again the sources whose first poll could not know
some readings yet (CPU shares and byte rates need two samples)."""


def package_version() -> str:
    """Return the installed version of gongwatch."""
    # importlib.metadata costs about a megabyte: looked up only when the version is asked for.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gongwatch")
    except PackageNotFoundError:
        return "unknown"


class VersionAction(argparse.Action):
    """``--version``: prints the installed version, looked up only then."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "show the version and exit")
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        print(f"gongwatch {package_version()}")
        parser.exit()


TOOLS = {
    "detect": (
        "run a detector over a timestamp,value CSV and write NAB's result format",
        "engine.detect_cli",
    ),
    "history": (
        "the stored points of one metric (from the daemon, else the history file)",
        "engine.history.cli",
    ),
    "import": ("RRD files, CSV and Graphite JSON into the history file", "engine.imports.cli"),
    "replay": ("run a detector over the stored history", "engine.replay_cli"),
    "alerts": ("list, acknowledge and silence alerts", "engine.alerts_cli"),
    "web": ("the monitor in a browser, attached to the daemon", "engine.web_cli"),
}
"""Subcommands whose arguments their own module adds (``add_arguments``): their help and
that module, imported only when the command line names the subcommand (or for the whole
parser), so the monitor and the daemon do not load the code of every tool."""


HELP_ATTACH = (
    "show this daemon (http://host:port of its [daemon] listen, or a socket path) with the "
    "others given, each under its host; repeatable; the token is $GONGWATCH_TOKEN"
)
VALUED = ("--config", "--attach")
"""The options before the subcommand that take a value (the next word)."""


def chosen_command(argv: Sequence[str]) -> str | None:
    """Return the subcommand ``argv`` names (its first word that is not an option), if any."""
    words = iter(argv)
    for word in words:
        if word in VALUED:
            next(words, None)  # its value
        elif not word.startswith("-"):
            return word
    return None


def build_parser(only: str | None = None, *, whole: bool = True) -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand.

    Args:
        only: with ``whole`` False, the one subcommand whose module adds its arguments (the
            others are listed, with their help, and take none).
        whole: every subcommand with all its arguments.
    """
    help_config = "TOML configuration file (default: the user's config file, else defaults)"
    # Subcommands take --config too; SUPPRESS keeps theirs from erasing one given before them.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=help_config)
    parser = argparse.ArgumentParser(
        prog="gongwatch",
        description="A terminal monitor that notices the unusual and rings a gong.",
    )
    parser.add_argument("--config", metavar="PATH", default=None, help=help_config)
    parser.add_argument("--version", action=VersionAction)
    parser.add_argument("--attach", metavar="URL", action="append", default=[], help=HELP_ATTACH)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_builtin_commands(sub, common)
    for name, (text, module) in TOOLS.items():
        tool = sub.add_parser(name, parents=[common], help=text)
        if whole or name == only:
            importlib.import_module(module).add_arguments(tool)
    return parser


def add_builtin_commands(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    """Add the subcommands whose arguments this module defines."""
    run = sub.add_parser("run", parents=[common], help="the monitor (the default)")
    run.add_argument(
        "--attach-only", action="store_true",
        help="only show a running daemon's engine; never start one in this process",
    )  # fmt: skip
    run.add_argument("--attach", metavar="URL", action="append", default=argparse.SUPPRESS,
                     help=HELP_ATTACH)  # fmt: skip
    once = sub.add_parser(
        "once", parents=[common], help="poll every source once and print the readings"
    )
    once.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    ports = sub.add_parser(
        "ports", parents=[common], help="list serial ports and the firmware answering on each"
    )
    ports.add_argument("extra", nargs="*", metavar="PORT", help="more ports to probe (ptys)")
    ports.add_argument("--baud", type=int, default=None, help="line speed (default 9600)")
    ports.add_argument(
        "--timeout", type=float, default=None,
        help="seconds for the whole scan; every port is probed at once (default 2)",
    )  # fmt: skip
    send = sub.add_parser("send", parents=[common], help="send one command to a device")
    send.add_argument("port", metavar="PORT", help="serial port of the device")
    send.add_argument("line", metavar="LINE", help="the command, e.g. gong, 'london up'")
    send.add_argument("--baud", type=int, default=None, help="line speed (default: configured)")
    send.add_argument(
        "--timeout", type=float, default=2.0,
        help="seconds for it all: opening the port, the board's reset and the reply (default 2)",
    )  # fmt: skip
    send.add_argument("-v", "--verbose", action="store_true", help="show every line on the wire")
    daemon = sub.add_parser(
        "daemon", parents=[common], help="the engine, alerts and devices with no screen"
    )
    daemon.add_argument("--log", metavar="FILE", default=None, help="log file (default: stderr)")
    status = sub.add_parser(
        "status", parents=[common], help="whether a daemon runs (exit 0), or not (exit 3)"
    )
    status.add_argument("--json", action="store_true", help="one JSON object")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(chosen_command(argv), whole=False).parse_args(argv)
    if args.command == "daemon":
        from engine.daemon import run_daemon

        # The daemon reads its configuration itself: it reads it again on SIGHUP.
        return run_daemon(args.config, args.log)
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"gongwatch: {exc}", file=sys.stderr)
        return 2
    from engine.sources import config_warnings

    warnings = config_warnings(config)
    for line in warnings:
        print(printable(f"gongwatch: warning: {line}"), file=sys.stderr)
    if args.command == "once":
        return cmd_once(config, json_lines=args.json)
    if args.command == "status":
        from engine.daemon.status import cmd_status

        return cmd_status(config, as_json=args.json)
    if args.command == "detect":
        from engine.detect_cli import cmd_detect

        return cmd_detect(args)
    if args.command == "history":
        from engine.history.cli import cmd_history
        from engine.paths import socket_path

        path = args.file or config.history_store.file
        # A running daemon answers from the file it writes, points not saved yet included;
        # ``--file`` names a file to read itself.
        socket = None if args.file else socket_path(config)
        return cmd_history(
            path, args.metric, args.since, args.json, config=config.history_store, socket=socket
        )
    if args.command in ("import", "replay"):
        return cmd_history_tool(args, config)
    if args.command == "alerts":
        from engine.alerts_cli import cmd_alerts

        return cmd_alerts(config, args)
    if args.command in ("ports", "send"):
        from engine import devices_cli

        if args.command == "ports":
            return devices_cli.cmd_ports(config, args.extra, args.baud, timeout=args.timeout)
        return devices_cli.cmd_send(
            config, args.port, args.line, baud=args.baud, timeout=args.timeout,
            verbose=args.verbose,
        )  # fmt: skip
    if args.command == "web":
        from engine.web_cli import cmd_web

        return cmd_web(args)
    return cmd_run(
        config, warnings, attach_only=getattr(args, "attach_only", False), attach=args.attach
    )


def cmd_history_tool(args: argparse.Namespace, config: Config) -> int:
    """``import`` or ``replay``, on the history file ``--file`` names or the configured one."""
    path = args.file or config.history_store.file
    if args.command == "import":
        from engine.imports.cli import cmd_import

        return cmd_import(path, args.files, args.prefix, config=config.history_store)
    from engine.replay_cli import cmd_replay

    return cmd_replay(
        path, args.glob, args.since, args.detector, args.json, config=config.history_store
    )


def cmd_run(
    config: Config, warnings: Sequence[str] = (), attach_only: bool = False,
    attach: Sequence[str] = (),
) -> int:  # fmt: skip
    """Start the TUI; configuration warnings are shown in it too.

    With ``attach`` it shows those daemons together, each under its host.

    With ``attach_only`` the screen only shows a daemon's engine: when no daemon answers it
    says so (on stderr and on its screen) and returns 3, instead of running an engine itself.
    """
    from engine.views import open_view

    # The engine starts first: its sources' first polls run while the screen's code loads,
    # so the first frame has readings to show. Several daemons are attached by the screen.
    view = None if attach else open_view(config, attach_only)
    try:
        # The one bridge from the engine to the UI. It is looked up by name only when the
        # screen is asked for, so the engine never imports textual, rich or tui (the import
        # contract and tests/test_import_hygiene.py hold it to that), and ``once`` or
        # ``detect`` never load them.
        run_app = importlib.import_module(TUI_ENTRY).run_app
        return int(run_app(config, warnings, attach_only, attach, view=view) or 0)
    finally:
        if view is not None:
            view.stop()


def poll_all(collectors: Sequence[Collector], timeout: float = ONCE_TIMEOUT) -> list[Batch]:
    """Poll every collector once, all at the same time, each in its own thread."""
    if not collectors:
        return []
    pool = ThreadPoolExecutor(max_workers=len(collectors), thread_name_prefix="once")
    futures = {pool.submit(c.poll): c for c in collectors}
    done, _ = wait(futures, timeout=timeout)
    batches = []
    for future, c in futures.items():
        if future not in done:
            batches.append(Batch(c.name, errors=(f"no answer within {timeout:.0f} s",)))
        elif (exc := future.exception()) is not None:
            batches.append(Batch(c.name, errors=(f"internal error: {type(exc).__name__}: {exc}",)))
        else:
            batches.append(future.result())
    pool.shutdown(wait=False, cancel_futures=True)
    return batches


def poll_known(collectors: Sequence[Collector], warmup: float = WARMUP) -> list[Batch]:
    """Poll every collector once, then, ``warmup`` seconds later, poll again those whose
    batch held readings not known yet, so every rate comes from two real samples."""
    batches = poll_all(collectors)
    again = [i for i, batch in enumerate(batches) if batch.pending]
    if again:
        time.sleep(warmup)
        for i, batch in zip(again, poll_all([collectors[i] for i in again]), strict=True):
            batches[i] = batch
    return batches


def cmd_once(config: Config, json_lines: bool) -> int:
    """Print every reading of one poll of every source, then what could not be read."""
    from engine import build_collectors
    from engine.format import value as format_value

    collectors = build_collectors(config)
    batches = poll_known(collectors)
    out = sys.stdout
    for batch in batches:
        for r in batch.readings:
            if json_lines:
                out.write(json_line(r.to_json()) + "\n")
            else:
                flag = "" if r.status == "ok" else f"  [{r.status}]"
                shown = format_value(r.value, r.unit, r.text)
                out.write(f"{printable(r.key):<48} {printable(shown):>14}{flag}\n")
    for batch in batches:
        problems = [("unavailable", batch.unavailable)] if batch.unavailable else []
        problems += [("error", e) for e in batch.errors]
        for kind, text in problems:
            if json_lines:
                out.write(json_line({"source": batch.source, kind: text}) + "\n")
            else:
                out.write(printable(f"{batch.source}: {kind}: {text}") + "\n")
    for c in collectors:
        close = getattr(c, "close", None)
        if callable(close):
            close()
    return 0


def run() -> int:
    """The console script: ``main`` with a closed pipe (``| head``) treated as a normal end."""
    # Before the first of the monitor's (or the daemon's) threads: each would keep an arena.
    limit_arenas()
    # Before Textual or the daemon load asyncio, which would load OpenSSL for nothing.
    defer_ssl()
    try:
        return main()
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit: point it at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(run())
