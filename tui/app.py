"""Provides the Textual application, ``make_app`` (the factory the CLI and the tests share) and
``run_app``, which the command line starts."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Input, TabbedContent, TabPane

from collectors.base import Collector, printable
from engine import Engine, EngineView
from engine.alerts import AlertManager, AlertRecord
from engine.config import Config
from engine.devices import Devices
from engine.engine import Snapshot, stale_sources
from engine.runtime import Runtime
from engine.views import open_view
from tui.commands import GongwatchCommands
from tui.gc_tuning import COLLECT_EVERY, collect_cycles, freeze_startup
from tui.panes import PANES, Pane
from tui.panes.overview import stopped_note
from tui.rich_cache import bound_split_cache
from tui.screens import DETAIL, HelpScreen
from tui.widgets import PaneTabs, RowTable, StatusHeader

if TYPE_CHECKING:
    from textual.driver import Driver

Clock = Callable[[], datetime]
EARLY_EVERY = 0.05
"""Seconds between the ticks that wait for the first readings."""
EARLY_TICKS = 60
"""How many of them at most (three seconds): a machine with no source stops waiting."""
SETTLE_AFTER = 2.0
"""Seconds after the first frame when a screen run for good freezes what it started with (its
first histories are drawn by then)."""


def local_now() -> datetime:
    """Return the current local time, timezone-aware."""
    return datetime.now().astimezone()


def on_detail(screen: object) -> bool:
    """True when ``screen`` is a metric's detail chart; none can be before its module loads."""
    module = sys.modules.get(DETAIL)
    return module is not None and isinstance(screen, module.DetailScreen)


class GongwatchApp(App[None]):
    """The monitor: a header, one tab per pane, a filter line and the footer."""

    CSS_PATH = "app.tcss"
    TITLE = "gongwatch"
    # Focus goes to the visible pane's list, never to the hidden filter line.
    AUTO_FOCUS = None
    COMMANDS = App.COMMANDS | {GongwatchCommands}

    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("p", "pause", "Pause"),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "filter", "Filter"),
        Binding("tab", "switch_pane(1)", "Next pane", show=False, priority=True),
        Binding("shift+tab", "switch_pane(-1)", "Previous pane", show=False, priority=True),
        *(Binding(str(i), f"show_pane({i})", f"Pane {i}", show=False) for i in range(1, 10)),
    ]

    def __init__(
        self,
        engine: EngineView,
        *,
        clock: Clock = local_now,
        hostname: str | None = None,
        autostart: bool = True,
        panes: Iterable[type[Pane]] | None = None,
    ) -> None:
        """Args:
        engine: the engine whose snapshots are shown, in this process or not (started on
            mount when ``autostart``).
        clock: wall clock for the header.
        hostname: shown in the header (default: this machine's name).
        autostart: start and stop the engine's threads with the app.
        panes: the pane classes, in tab order (default: all of them).
        """
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.hostname = hostname or socket.gethostname()
        self.autostart = autostart
        self.pane_classes = list(PANES if panes is None else panes)
        self.paused = False
        self.startup_warnings: list[str] = []
        """Lines about the configuration, shown as notifications once the screen is up."""
        self.freeze_after_start = False
        """Leave what the started screen holds out of garbage collections
        (``tui.gc_tuning``): for the process that runs this screen until it quits."""
        self._shown: dict[str, int] = {}
        self._last_event = 0
        """Sequence number of the last engine event notified."""

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this terminal; on Linux, one whose input thread sleeps while no
        key comes (``tui.driver``)."""
        found = super().get_driver_class()
        from textual.drivers.linux_driver import LinuxDriver

        if found is LinuxDriver:
            from tui.driver import QuietLinuxDriver

            return QuietLinuxDriver
        return found

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.hostname, id="header")
        with PaneTabs(id="tabs"):
            for number, cls in enumerate(self.pane_classes, 1):
                with TabPane(f"{number} {cls.TITLE}", id=f"tab-{cls.PANE_ID}"):
                    yield cls(self.engine)
        yield Input(
            placeholder="filter: part of a metric key, or a glob like sensors/**", id="filter"
        )
        yield Footer()

    def on_mount(self) -> None:
        # Kept, because a query on the app searches whichever screen is on top.
        self._header = self.query_one(StatusHeader)
        self._tabs = self.query_one("#tabs", TabbedContent)
        self._panes = list(self.query(Pane))
        self._filter_box = self.query_one("#filter", Input)
        if self.autostart:
            self.engine.start()
        self.engine.add_alert_listener(self._alert_recorded)
        # The first frame comes as soon as the first readings do, not a refresh period later.
        self._early_ticks = 0
        self._early = self.set_interval(EARLY_EVERY, self._first_frame)
        self.set_interval(self.engine.config.refresh, self.tick)
        self.call_after_refresh(self._focus_pane)
        for line in self.startup_warnings:
            self.notify(
                printable(line),
                title="configuration",
                severity="warning",
                timeout=15,
                markup=False,
            )

    def on_unmount(self) -> None:
        self.engine.remove_alert_listener(self._alert_recorded)
        if self.autostart:
            self.engine.stop()

    def _alert_recorded(self, record: AlertRecord) -> None:
        # A daemon has no terminal: the screens attached to it ring for it (from the client's
        # thread, so through the UI's queue). An embedded engine rings this terminal itself.
        if (
            record.action == "bell"
            and record.result == "rang"
            and self.engine.link.mode != "embedded"
        ):
            self.call_later(self.bell)

    @property
    def active_pane(self) -> Pane | None:
        """The pane of the visible tab."""
        active = self._tabs.active
        for pane in self._panes:
            if f"tab-{pane.PANE_ID}" == active:
                return pane
        return None

    def _first_frame(self) -> None:
        """Tick often until the engine has something to show (for three seconds at most), then
        leave it to the refresh."""
        self._early_ticks += 1
        if self.engine.snapshot().metrics or self._early_ticks >= EARLY_TICKS:
            self._early.stop()
            if self.freeze_after_start:
                bound_split_cache()
                self.set_timer(SETTLE_AFTER, self._settle)
        self.tick()

    def _settle(self) -> None:
        """Freeze what the started screen holds, and collect cycles on a timer from now on."""
        freeze_startup()
        self.set_interval(COLLECT_EVERY, collect_cycles)

    def tick(self) -> None:
        """Refresh the header and, unless paused, the visible pane when the snapshot changed."""
        if self._exit or not self.is_running:
            # Closing (by a key, or by whoever runs the app: then only is_running says so):
            # the panes are being taken down, and a timer may still fire once.
            return
        snap = self.engine.snapshot()
        uptime = snap.metrics.get("system/uptime")
        up = uptime.reading.value if uptime else None
        self._header.show(self.clock(), up, self.paused, self.link_note(snap))
        if self.paused:
            return
        pane = self.active_pane
        if pane is not None and self._shown.get(pane.PANE_ID) != snap.version:
            self._shown[pane.PANE_ID] = snap.version
            pane.show_snapshot(snap)
        self._notify_events()

    def link_note(self, snap: Snapshot) -> str:
        """Say where the engine runs, whether it answers, and which sources went quiet."""
        link = self.engine.link
        if link.mode == "embedded":
            note = "embedded"
        elif link.mode == "several":
            note = f"attached to {link.detail}"
        elif link.connected:
            note = f"attached to daemon pid {link.pid}"
        else:
            note = f"DISCONNECTED from daemon pid {link.pid}: data is stale, reconnecting"
        # A stopped source is stale too: it is named once, with why it stopped.
        stale = [n for n in stale_sources(snap.sources) if not snap.sources[n].stopped]
        parts = [note, f"stale: {', '.join(stale)}" if stale else "", stopped_note(snap)]
        return " │ ".join(p for p in parts if p)

    def _notify_events(self) -> None:
        for event in self.engine.events_since(self._last_event):
            severity = {"error": "error", "warning": "warning"}.get(event.level, "information")
            self.notify(
                printable(event.text),
                title=printable(event.source),
                severity=severity,  # type: ignore[arg-type]
                markup=False,
            )
            self._last_event = event.seq

    def _focus_pane(self) -> None:
        pane = self.active_pane
        if pane is not None:
            target = next((w for w in pane.query("*") if w.focusable), None)
            if target is not None:
                target.focus()

    @on(TabbedContent.TabActivated)
    def _tab_changed(self) -> None:
        self.call_after_refresh(self._focus_pane)
        self.tick()

    def action_show_pane(self, number: int) -> None:
        """Show the pane with this number (1 is the first tab)."""
        if 1 <= number <= len(self.pane_classes):
            self._tabs.active = f"tab-{self.pane_classes[number - 1].PANE_ID}"

    def action_switch_pane(self, step: int) -> None:
        """Show the next (1) or previous (-1) pane."""
        if isinstance(self.screen, HelpScreen) or on_detail(self.screen):
            return
        ids = [f"tab-{c.PANE_ID}" for c in self.pane_classes]
        index = ids.index(self._tabs.active) if self._tabs.active in ids else 0
        self._tabs.active = ids[(index + step) % len(ids)]

    def action_pause(self) -> None:
        """Freeze the display; collection and detection go on, so nothing is lost."""
        self.paused = not self.paused
        self._shown.clear()
        self.tick()

    def action_filter(self) -> None:
        """Show the filter line and put the cursor in it."""
        box = self._filter_box
        box.add_class("visible")
        # Focus once the style change has made it displayable.
        self.call_after_refresh(box.focus)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        for pane in self._panes:
            pane.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        box = self._filter_box
        if not box.value:
            box.remove_class("visible")
        self._focus_pane()

    def on_key(self, event: events.Key) -> None:
        box = self._filter_box
        if event.key == "escape" and box.has_focus:
            box.value = ""
            box.remove_class("visible")
            self._focus_pane()

    @on(RowTable.Selected)
    def _open_detail(self, event: RowTable.Selected) -> None:
        if event.key in self.engine.snapshot().metrics:
            self.open_detail(event.key)

    def open_detail(self, key: str) -> None:
        """Open the chart of one metric."""
        from tui.screens.detail import DetailScreen

        self.push_screen(DetailScreen(self.engine, key, clock=lambda: self.clock().timestamp()))

    def action_help(self) -> None:
        """Show every key binding that applies here."""
        self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """Collect the bindings of the app, the visible pane and its widgets."""

        def items(bindings: Iterable[object]) -> list[tuple[str, str]]:
            out = []
            for b in bindings:
                if isinstance(b, Binding) and b.description and "show_pane" not in b.action:
                    keys = ",".join(
                        self.get_key_display(replace(b, key=k.strip())) for k in b.key.split(",")
                    )
                    out.append((keys, b.description))
            return out

        sections = [("Everywhere", items(self.BINDINGS))]
        if on_detail(self.screen):
            # There the digits choose the span of history the chart shows.
            sections[0][1].append(("ctrl+p", "command palette"))
            return [*sections, ("Detail chart", items(self.screen.BINDINGS))]
        sections[0][1].append(("1-9", "show that pane"))
        sections[0][1].append(("ctrl+p", "command palette"))
        pane = self.active_pane
        if pane is not None:
            seen: list[tuple[str, str]] = []
            for widget in [pane, *pane.query("*")]:
                for item in items(getattr(widget, "BINDINGS", [])):
                    if item not in seen:
                        seen.append(item)
            sections.append((f"{pane.TITLE} pane", seen))
        return sections


def make_app(
    config: Config | None = None,
    *,
    engine: Engine | None = None,
    collectors: Iterable[Collector] | None = None,
    clock: Clock = local_now,
    hostname: str | None = None,
    autostart: bool = True,
    devices: Devices | None = None,
    alerts: AlertManager | None = None,
    view: EngineView | None = None,
    panes: Iterable[type[Pane]] | None = None,
) -> GongwatchApp:
    """Build the app with its engine: the one place the CLI and the tests assemble it.

    Args:
        config: the configuration (defaults when None).
        engine: an engine to show (built from ``config`` and ``collectors`` when None).
        collectors: the sources (from the configuration when None).
        clock: wall clock for the header.
        hostname: name shown in the header.
        autostart: whether the app starts and stops the engine's threads.
        devices: the gong and the map (from the engine's configuration when None).
        alerts: an alert manager (when None, one is built and subscribed to the engine).
        view: a view to show instead of an embedded engine (a daemon's, attached).
        panes: the pane classes, in tab order (default: all of them).
    """
    if view is not None:
        return GongwatchApp(view, clock=clock, hostname=hostname, autostart=autostart, panes=panes)
    config = config or (engine.config if engine is not None else Config())
    # Built here, the engine keeps the same history file a daemon keeps: charts have days.
    runtime = Runtime(
        config, engine=engine, collectors=collectors, devices=devices, alerts=alerts,
        history=autostart and engine is None,
    )  # fmt: skip
    app = GongwatchApp(runtime, clock=clock, hostname=hostname, autostart=autostart, panes=panes)
    # The bell is rung from the observers' thread: post it to the UI's queue.
    runtime.alerts.bell = lambda: app.call_later(app.bell)
    return app


TOKEN_ENV = "GONGWATCH_TOKEN"
"""The environment variable holding the token of the daemons ``--attach`` reaches by URL."""
NO_DAEMON = "no daemon running: start `gongwatch daemon`; this screen only attaches to one"
"""What an attach-only screen says when there is no daemon to show."""


def run_app(
    config: Config,
    warnings: Sequence[str] = (),
    attach_only: bool = False,
    attach: Sequence[str] = (),
    view: EngineView | None = None,
) -> int:
    """Run the monitor on ``config`` until it quits: what ``gongwatch`` with no command does.

    Args:
        config: the configuration.
        warnings: lines about the configuration, shown as notifications once the screen is up.
        attach_only: never run an engine in this process (the screens of ``gongwatch web``).
        attach: daemons to show together, by URL (``http://host:port``) or socket path, each
            under its host; the token of those reached by URL is ``$GONGWATCH_TOKEN``.
        view: the engine to show, already started (``engine.views.open_view``, which the
            command line calls before it loads the screen); None when ``attach_only`` found
            no daemon, or to have it opened here.

    Returns:
        The exit status: 0, or 3 when ``attach_only`` found no daemon to attach to.
    """
    if attach:
        from engine.many import ManyEngineView

        token = os.environ.get(TOKEN_ENV) or None
        many = make_app(config, view=ManyEngineView(list(attach), config, token))
        many.startup_warnings = list(warnings)
        many.freeze_after_start = True
        many.run()
        return 0
    if view is None and not attach_only:
        view = open_view(config)
    if view is None:
        # A screen of ``gongwatch web`` never runs an engine itself. It says so on its screen
        # too: in a browser, stderr is seen by no one.
        from tui.no_daemon import NoDaemonApp

        print(f"gongwatch: {NO_DAEMON}", file=sys.stderr)
        return NoDaemonApp(NO_DAEMON).run() or 3
    app = make_app(config, view=view)
    app.freeze_after_start = True
    if isinstance(view, Runtime):
        # The bell is rung from the observers' thread: post it to the UI's queue.
        view.alerts.bell = lambda: app.call_later(app.bell)
    app.startup_warnings = list(warnings)
    app.run()
    return 0


__all__ = ["GongwatchApp", "local_now", "make_app", "run_app"]
