"""Tests the configuration of notification targets, schedules, repeats and durations."""

from __future__ import annotations

import pytest

from engine.config import ConfigError
from engine.config_reader import parse
from engine.durations import parse_duration

GOOD = """
[notify.phone]
urls = ["ntfy://ntfy.sh/my-topic"]
group = "1m"

[[alerts]]
name = "disks"
metrics = "disk/**"
actions = ["gong", "notify:phone"]
repeat = "1h"

[[schedule]]
name = "meetings"
ics = "https://calendar.example.org/basic.ics"
lead = "5m"
match = "standup|review"
actions = ["gong", "all slow", "notify:phone"]
"""


def test_the_contract_keys_are_read() -> None:
    config = parse(GOOD)
    assert config.notify["phone"].urls == ("ntfy://ntfy.sh/my-topic",)
    assert config.notify["phone"].group == 60.0 and config.notify["phone"].timeout == 10.0
    rule = config.alerts[0]
    assert (rule.label, rule.repeat, rule.actions) == ("disks", 3600.0, ("gong", "notify:phone"))
    (s,) = config.schedules
    assert (s.name, s.lead, s.match, s.refresh) == ("meetings", 300.0, "standup|review", 900.0)
    assert s.actions == ("gong", "all slow", "notify:phone")


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (
            '[[alerts]]\nmetrics = "a"\nactions = ["notify:pager"]',
            "alerts[0].actions",
            "no [notify.pager]",
        ),
        ('[[alerts]]\nmetrics = "a"\nrepeat = "often"', "alerts[0].repeat", "not a duration"),
        ("[notify.x]\nurls = []", "notify.x.urls", "required"),
        ('[notify.x]\nurls = ["a://b"]\ntimeout = "1h"', "notify.x.timeout", "between"),
        ('[[schedule]]\nics = "a.ics"\nmatch = "("', "schedule[0].match", "regular expression"),
        ('[[schedule]]\nics = "a.ics"\nactions = ["fly"]', "schedule[0].actions", "unknown action"),
        ('[[schedule]]\nlead = "5m"', "schedule[0].ics", "required"),
        ('[[schedule]]\nics = "a.ics"\nrefresh = "1s"', "schedule[0].refresh", "at least"),
    ],
)
def test_mistakes_name_their_key(text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert err.value.key == key and words in err.value.message


def test_durations() -> None:
    assert [parse_duration(t) for t in ("90s", "10m", "2h", "7d", 5)] == [90, 600, 7200, 604800, 5]
    with pytest.raises(ValueError):
        parse_duration("soon")
