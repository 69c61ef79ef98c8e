"""Tests the notify: action against real receivers: a JSON webhook and an SMTP sink on
127.0.0.1, a target that never answers, the grouping of a storm, and secrets kept hidden."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from collectors.base import Batch, Reading, Status
from collectors.smart import SmartCollector
from engine import Engine
from engine.alerts import AlertManager, AlertRecord
from engine.config import AlertRule, Config, NotifyTarget
from engine.notify import Notifier, shown_url
from tests.clock import ManualClock
from tests.engine.receivers import silent_server, smtp_sink, webhook
from tests.hardware_fakes.smartctl import FakeSmartctl, recorded_machines

SATA = next(p for p in recorded_machines() if p.name == "sata_hdd_0_issue42")
FAILED = {"replace": {"/dev/sdau": {"test result: PASSED": "test result: FAILED!"}},
          "exit_bits": {"/dev/sdau": 8 | 64}}  # fmt: skip


class Finished:
    """Collects the finished records of one action."""

    def __init__(self, action: str) -> None:
        self.action, self.done = action, []  # type: ignore[var-annotated]
        self._cond = threading.Condition()

    def __call__(self, rec: AlertRecord) -> None:
        if rec.result is not None and rec.action == self.action:
            with self._cond:
                self.done.append(rec)
                self._cond.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[AlertRecord]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.done) >= count, timeout), self.done
        return list(self.done)


def manager(
    tmp_path: Path, rule: AlertRule, targets: dict[str, NotifyTarget], clock: ManualClock
) -> tuple[Engine, AlertManager]:
    config = Config(alerts=(rule,), notify=targets)
    engine = Engine(config, monotonic=clock)
    notifier = Notifier(targets, host="testhost", monotonic=clock, flush_thread=False)
    alerts = AlertManager(
        config, gong=None, log_path=tmp_path / "alerts.log", monotonic=clock,
        wall=lambda: clock.now + 1.8e9, notifier=notifier,
    )  # fmt: skip
    alerts.attach(engine)
    return engine, alerts


def test_a_failing_disk_sends_its_details_then_resolved(tmp_path: Path) -> None:
    fake = FakeSmartctl(tmp_path, SATA)
    clock = ManualClock(1000.0)
    with webhook() as hook:
        targets = {"ops": NotifyTarget("ops", (hook.url("/alerts"),), timeout=5.0, group=0.0)}
        rule = AlertRule("disk/*/health", "critical", 0.0, ("notify:ops",), name="disks")
        engine, alerts = manager(tmp_path, rule, targets, clock)
        smart = SmartCollector(smartctl=str(fake.path), hwmon_root="/nonexistent")
        engine.ingest(smart.poll())
        fake.set_state(**FAILED)
        clock.advance(300.0)
        engine.ingest(smart.poll())
        clock.advance(300.0)
        engine.ingest(smart.poll())  # still failing: no second message
        first = hook.wait(1)[0]
        assert first["title"] == "gongwatch on testhost: critical disk/sdau/health"
        body = first["message"]
        assert "disk/sdau/health on testhost is critical: FAILED." in body
        assert "Value: FAILED; expected a healthy reading." in body
        assert "Since 2027-01-15 08:21:40 UTC (just now)." in body
        assert "Rule: disks." in body
        fake.set_state()
        clock.advance(300.0)
        engine.ingest(smart.poll())
        bodies = hook.wait(2)
        assert bodies[1]["title"] == "gongwatch on testhost: resolved disk/sdau/health"
        assert "back to normal: PASSED" in bodies[1]["message"]
        assert "for 00:10:00" in bodies[1]["message"]
        assert len(bodies) == 2 and hook.paths == ["/alerts", "/alerts"]
        alerts.close()


def test_mail_reaches_an_smtp_server(tmp_path: Path) -> None:
    clock = ManualClock(1000.0)
    with smtp_sink() as (port, got):
        url = (
            f"mailto://127.0.0.1:{port}?from=gongwatch@example.org&to=ops@example.org&mode=insecure"
        )
        targets = {"mail": NotifyTarget("mail", (url,), timeout=5.0, group=0.0)}
        rule = AlertRule("sensors/**", "critical", 0.0, ("notify:mail",))
        engine, alerts = manager(tmp_path, rule, targets, clock)
        done = Finished("notify:mail")
        alerts.add_listener(done)
        hot = Reading("sensors/k10temp/Tctl", 97.0, "°C", crit=95.0, status=Status.CRITICAL)
        engine.ingest(Batch("sensors", (hot,)))
        assert done.wait(1)[0].ok, done.done
        assert len(got) == 1
        assert got[0]["To"] == "ops@example.org"
        plain = next(p for p in got[0].walk() if p.get_content_type() == "text/plain")
        text = plain.get_payload(decode=True).decode()
        assert "sensors/k10temp/Tctl on" in text and "critical limit 95 °C" in text
        alerts.close()


def test_a_hanging_target_costs_only_its_timeout(tmp_path: Path) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook, silent_server() as dead:
        targets = {
            "dead": NotifyTarget("dead", (f"json://127.0.0.1:{dead}/x",), timeout=2.0, group=0.0),
            "ops": NotifyTarget("ops", (hook.url(),), timeout=5.0, group=0.0),
        }
        rule = AlertRule("sensors/**", "critical", 0.0, ("notify:dead", "notify:ops"))
        engine, alerts = manager(tmp_path, rule, targets, clock)
        dead_done, ops_done = Finished("notify:dead"), Finished("notify:ops")
        alerts.add_listener(dead_done)
        alerts.add_listener(ops_done)
        import apprise  # noqa: F401  (its first import, ~1 s, is not what this measures)

        start = time.monotonic()
        engine.ingest(Batch("s", (Reading("sensors/a/b", 1.0, status=Status.CRITICAL),)))
        observed = time.monotonic() - start
        assert ops_done.wait(1)[0].ok
        ops_took = time.monotonic() - start
        dead = dead_done.wait(1, timeout=6.0)[0]
        dead_took = time.monotonic() - start
        assert observed < 0.5  # the collector's thread never waits for a send
        assert ops_took < 1.5  # the other target did not wait out the dead one's 2 s
        assert not dead.ok and 1.9 <= dead_took < 4.0, (dead.result, dead_took)
        alerts.close()


def test_a_storm_to_one_target_is_grouped_into_one_message(tmp_path: Path) -> None:
    clock = ManualClock(1000.0)
    with webhook() as hook:
        targets = {"ops": NotifyTarget("ops", (hook.url(),), timeout=5.0, group=30.0)}
        rule = AlertRule("sensors/**", "critical", 0.0, ("notify:ops",))
        engine, alerts = manager(tmp_path, rule, targets, clock)
        for i in range(20):
            engine.ingest(Batch("s", (Reading(f"sensors/c/t{i}", 1.0, status=Status.CRITICAL),)))
            clock.advance(1.0)
        assert len(hook.wait(1)) == 1
        assert alerts.notifier is not None
        alerts.notifier.flush()  # 20 s after the first: the window is still open
        time.sleep(0.2)
        assert len(hook.bodies) == 1
        clock.advance(11.0)
        alerts.notifier.flush()
        second = hook.wait(2)[1]
        assert second["title"] == "gongwatch on testhost: 19 more alerts"
        assert second["message"].count("\n") == 18 and "sensors/c/t19" in second["message"]
        alerts.close()


def test_urls_are_shown_without_their_secrets() -> None:
    assert shown_url("json://user:hunter22@example.org:8080/hook/abcdef123") == (
        "json://user:***@example.org:8080/***"
    )
    assert shown_url("tgram://123456:ABCDEF-bot-token/98765") == "tgram://123456/***"
    assert "hunter22" not in repr(NotifyTarget("x", ("json://u:hunter22@h/",)))


def test_apprise_is_imported_only_when_a_notify_table_exists(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from engine.alerts import AlertManager\n"
        "from engine.config_reader import parse\n"
        f"AlertManager(parse(''), log_path={str(tmp_path / 'a.log')!r})\n"
        "print('apprise' in sys.modules, 'engine.notify' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
