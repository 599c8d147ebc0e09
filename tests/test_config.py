"""monitor.yaml plus MONITOR_* variables: what loads, what overrides what, how errors read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.settings import Settings

INVALID = Path(__file__).parent / "data" / "config" / "invalid"

# Error messages are user interface: these cases are pinned byte for byte in <case>.expected.
PINNED_CASES = [
    "unknown-key",
    "duplicate-yaml-key",
    "duplicate-feed-name",
    "duplicate-feed-url",
    "bad-duration",
    "non-http-url",
    "top-level-list",
    "several-errors",
    "zero-per-host",
    "negative-per-host",
    "bad-feed-name",
    "yaml-syntax-error",
]

VALID = """\
database_url: sqlite:///var/lib/monitor/monitor.db
log:
  format: text
  level: warning
http:
  connect_timeout: 90s
  max_body: 10MB
  per_host: 2
schedule:
  lease: 15m
  max_backoff: 2h
defaults:
  interval: 20m
feeds:
  - name: example-wire
    url: https://news.example.com/rss.xml
    tags: [world, sport]
  - name: slow.feed_2
    url: http://slow.example.org/atom?lang=en
    interval: 2h
    language: en
"""


def _write(tmp_path: Path, text: str, name: str = "monitor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def valid(tmp_path: Path) -> Path:
    return _write(tmp_path, VALID)


# --- a valid file --------------------------------------------------------------------------


def test_valid_file_loads_with_units_converted(valid: Path) -> None:
    settings = load_settings(valid, {})

    # the file names a path relative to its own folder
    assert settings.database_url == f"sqlite:///{valid.parent / 'var/lib/monitor/monitor.db'}"
    assert settings.log.level == "warning"
    assert settings.http.connect_timeout == timedelta(seconds=90)
    assert settings.schedule.lease == timedelta(minutes=15)
    assert settings.schedule.max_backoff == timedelta(hours=2)
    assert settings.http.max_body == 10_000_000
    assert settings.source == str(valid)


def test_feeds_without_interval_get_the_default_interval(valid: Path) -> None:
    settings = load_settings(valid, {})

    assert [f.name for f in settings.feeds] == ["example-wire", "slow.feed_2"]
    assert settings.feed("example-wire").every == timedelta(minutes=20)
    assert settings.feed("example-wire").tags == ("world", "sport")
    assert settings.feed("slow.feed_2").every == timedelta(hours=2)
    assert settings.feed("slow.feed_2").language == "en"


def test_unknown_feed_name_is_a_key_error(valid: Path) -> None:
    settings = load_settings(valid, {})

    with pytest.raises(KeyError):
        settings.feed("no-such-feed")


def test_unset_settings_keep_their_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "feeds: []\n")

    settings = load_settings(path, {})

    assert settings.log.format == "text"
    assert settings.http.per_host == 2
    assert settings.defaults.interval == timedelta(minutes=15)
    assert settings.feeds == ()


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    path = _write(tmp_path, "# nothing configured yet\n")

    settings = load_settings(path, {})

    defaults = Settings().model_dump()
    defaults |= {
        "rules_dir": tmp_path / "rules",
        "seeds_dir": tmp_path / "seeds",
        "cache_dir": tmp_path / "data" / "cache",
        "database_url": f"sqlite:///{tmp_path / 'data/monitor.db'}",
    }
    assert settings.model_dump() == defaults


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1.5h", timedelta(minutes=90)),
        ("1500ms", timedelta(seconds=1.5)),
        (" 10 m ", timedelta(minutes=10)),
    ],
)
def test_durations_are_read_with_their_unit(
    tmp_path: Path, written: str, expected: timedelta
) -> None:
    path = _write(tmp_path, f'defaults:\n  interval: "{written}"\n')

    settings = load_settings(path, {})

    assert settings.defaults.interval == expected


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("10MB", 10_000_000),
        ("512KB", 512_000),
        ("1MiB", 1_048_576),
        ("2 kib", 2048),
        ("1.5GB", 1_500_000_000),
        ("4096", 4096),
    ],
)
def test_sizes_are_read_with_their_unit(tmp_path: Path, written: str, expected: int) -> None:
    path = _write(tmp_path, f'http:\n  max_body: "{written}"\n')

    settings = load_settings(path, {})

    assert settings.http.max_body == expected


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("defaults", "interval", "0s"),
        ("defaults", "interval", "-5"),
        ("http", "connect_timeout", "0s"),
        ("http", "total_timeout", "-30"),
        ("schedule", "tick", "0s"),
        ("schedule", "lease", "0m"),
    ],
)
def test_zero_or_negative_durations_are_rejected(
    tmp_path: Path, section: str, key: str, value: str
) -> None:
    # Given a duration that would make the daemon spin (interval/tick 0) or never wait
    path = _write(tmp_path, f"{section}:\n  {key}: {value}\n")

    # When it is loaded, Then it is refused and the message names the setting
    problems = _problems(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:2:3: error: {section}.{key}: ")


def test_zero_feed_interval_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "feeds:\n  - name: a\n    url: https://a.example/\n    interval: 0s\n")

    assert _problems(path) == [
        f"{path}:4:5: error: feeds[0].interval: must be a positive duration (got '0s')"
    ]


# --- environment variables -----------------------------------------------------------------


def test_database_url_from_environment_overrides_the_file(valid: Path) -> None:
    environ = {"MONITOR_DATABASE_URL": "postgresql://monitor@db:5432/monitor"}

    settings = load_settings(valid, environ)

    assert settings.database_url == "postgresql://monitor@db:5432/monitor"


def test_nested_environment_variables_override_one_key_and_keep_the_rest(valid: Path) -> None:
    environ = {"MONITOR_HTTP__PER_HOST": "3", "MONITOR_LOG__FORMAT": "json"}

    settings = load_settings(valid, environ)

    assert settings.http.per_host == 3
    assert settings.log.format == "json"
    # the rest of each section still comes from the file
    assert settings.http.connect_timeout == timedelta(seconds=90)
    assert settings.http.max_body == 10_000_000
    assert settings.log.level == "warning"


def test_environment_value_replaces_an_invalid_file_value(tmp_path: Path) -> None:
    path = _write(tmp_path, "http:\n  per_host: 0\n")

    settings = load_settings(path, {"MONITOR_HTTP__PER_HOST": "4"})

    assert settings.http.per_host == 4


@pytest.mark.parametrize(
    "user_agent",
    [
        "monitor/0.1 (contact: ops@example.org)",
        "monitor/0.1 #7",
    ],
)
def test_string_settings_from_environment_are_taken_literally(valid: Path, user_agent: str) -> None:
    settings = load_settings(valid, {"MONITOR_HTTP__USER_AGENT": user_agent})

    assert settings.http.user_agent == user_agent


def test_environment_is_read_from_os_environ_by_default(
    valid: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONITOR_LOG__FORMAT", "json")

    settings = load_settings(valid)

    assert settings.log.format == "json"


def test_monitor_config_picks_the_file_when_no_path_is_given(valid: Path) -> None:
    settings = load_settings(None, {"MONITOR_CONFIG": str(valid)})

    assert settings.source == str(valid)
    assert settings.feed("example-wire").every == timedelta(minutes=20)


def test_explicit_path_wins_over_monitor_config(tmp_path: Path, valid: Path) -> None:
    other = _write(tmp_path, "log:\n  format: json\n", name="other.yaml")

    settings = load_settings(other, {"MONITOR_CONFIG": str(valid)})

    assert settings.source == str(other)
    assert settings.log.format == "json"


def test_monitor_yaml_in_the_working_directory_is_the_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "log:\n  level: debug\n")
    monkeypatch.chdir(tmp_path)

    settings = load_settings(None, {})

    assert settings.log.level == "debug"
    assert settings.source == "monitor.yaml"


def test_unrelated_monitor_variables_are_ignored(valid: Path) -> None:
    environ = {
        "MONITOR_SLACK_URL": "https://hooks.slack.example/T000/B000/XXXX",
        "MONITOR_SMTP_PASSWORD": "hunter2",
        "PATH": "/usr/bin",
    }

    settings = load_settings(valid, environ)

    assert settings == load_settings(valid, {})


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "MONITOR_HTTP__PER_HOST",
            "many",
            "MONITOR_HTTP__PER_HOST (environment): error: http.per_host: "
            "Input should be a valid integer, unable to parse string as an integer (got 'many')",
        ),
        (
            "MONITOR_HTTP__PER_HOST",
            "0",
            "MONITOR_HTTP__PER_HOST (environment): error: http.per_host: "
            "Input should be greater than or equal to 1 (got 0)",
        ),
        (
            "MONITOR_LOG__FORMAT",
            "xml",
            "MONITOR_LOG__FORMAT (environment): error: log.format: "
            "Input should be 'text' or 'json' (got 'xml')",
        ),
        (
            "MONITOR_HTTP__MAX_BODY",
            "lots",
            "MONITOR_HTTP__MAX_BODY (environment): error: http.max_body: "
            "'lots' is not a size (use e.g. 512KB, 10MB)",
        ),
        (
            "MONITOR_HTTP__PER_HOSTS",
            "3",
            "MONITOR_HTTP__PER_HOSTS (environment): error: http.per_hosts: unknown setting"
            " (did you mean 'per_host'?)",
        ),
    ],
)
def test_invalid_environment_value_names_the_variable(
    valid: Path, variable: str, value: str, expected: str
) -> None:
    assert _problems(valid, {variable: value}) == [expected]


def test_file_and_environment_problems_are_reported_together(tmp_path: Path) -> None:
    path = _write(tmp_path, "log:\n  level: loud\n")

    problems = _problems(path, {"MONITOR_HTTP__PER_HOST": "0"})

    # (their relative order is not part of the contract: environment problems have no line)
    assert sorted(problems) == sorted(
        [
            "MONITOR_HTTP__PER_HOST (environment): error: http.per_host: "
            "Input should be greater than or equal to 1 (got 0)",
            f"{path}:2:3: error: log.level: Input should be 'debug', 'info', 'warning' or 'error'"
            " (got 'loud')",
        ]
    )


# --- missing file --------------------------------------------------------------------------


def test_missing_config_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "monitor.yaml"

    assert _problems(missing) == [f"{missing}: error: config file not found"]


def test_missing_file_named_by_monitor_config_names_that_path(tmp_path: Path) -> None:
    missing = tmp_path / "gone.yaml"

    with pytest.raises(ConfigError) as caught:
        load_settings(None, {"MONITOR_CONFIG": str(missing)})

    assert str(caught.value) == f"{missing}: error: config file not found"


def test_missing_default_file_explains_how_to_point_at_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with pytest.raises(ConfigError) as caught:
        load_settings(None, {})

    assert str(caught.value) == (
        "monitor.yaml (default; use --config or MONITOR_CONFIG): error: config file not found"
    )


def test_config_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_bytes("log:\n  level: d\xe9bug\n".encode("latin-1"))

    problems = _problems(path)

    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:1:1: error: cannot read file: ")


# --- pinned error messages (golden files) --------------------------------------------------


@pytest.mark.parametrize("case", PINNED_CASES)
def test_invalid_config_reports_exactly_the_expected_errors(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an invalid file, loaded by a relative path as a user would type it
    monkeypatch.chdir(INVALID)
    expected = (INVALID / f"{case}.expected").read_text(encoding="utf-8").splitlines()

    # When it is loaded
    with pytest.raises(ConfigError) as caught:
        load_settings(Path(f"{case}.yaml"), {})

    # Then every problem is reported, in file order, with the exact text of the golden file
    assert [str(p) for p in caught.value.problems] == expected
    assert str(caught.value) == "\n".join(expected)


@pytest.mark.parametrize("case", [c for c in PINNED_CASES if c != "yaml-syntax-error"])
def test_error_positions_point_at_the_offending_key(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the golden errors, independently of their wording
    monkeypatch.chdir(INVALID)
    lines = (INVALID / f"{case}.yaml").read_text(encoding="utf-8").splitlines()

    with pytest.raises(ConfigError) as caught:
        load_settings(Path(f"{case}.yaml"), {})

    for problem in caught.value.problems:
        # Then each one points into this file, at the key its message is about
        assert problem.pos is not None
        assert problem.pos.path == f"{case}.yaml"
        at = lines[problem.pos.line - 1][problem.pos.col - 1 :]
        assert at.startswith(f"{_key_named_in(problem.message)}:"), (str(problem), at)


def _key_named_in(message: str) -> str:
    if message.startswith("duplicate key '"):
        return message.split("'")[1]
    if message.startswith("the top level"):
        return "- name"  # the first line of the list that should have been a mapping
    dotted = message.split(": ", 1)[0]  # "feeds[0].intervall" or "http.per_host"
    return dotted.rsplit(".", 1)[-1]


def test_duplicate_yaml_key_points_at_the_second_occurrence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(INVALID)

    with pytest.raises(ConfigError) as caught:
        load_settings(Path("duplicate-yaml-key.yaml"), {})

    [problem] = caught.value.problems
    assert problem.pos is not None
    assert (problem.pos.line, problem.pos.col) == (4, 3)
    assert "'format'" in problem.message
    assert "line 2" in problem.message


def test_every_pinned_case_has_its_golden_file() -> None:
    cases_on_disk = {p.stem for p in INVALID.glob("*.expected")}

    assert cases_on_disk == set(PINNED_CASES)


# --- messages that are not pinned yet because they are not helpful enough ------------------


def test_bad_feed_name_error_quotes_the_name_instead_of_a_regex(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a feed called "Example Wire" (upper case and a space)
    monkeypatch.chdir(INVALID)

    # When the file is loaded
    with pytest.raises(ConfigError) as caught:
        load_settings(Path("bad-feed-name.yaml"), {})

    # Then the error points at the name and says which value is wrong, like every other
    # value error does ("'soon' is not a duration"), rather than printing a regex
    [problem] = caught.value.problems
    assert str(problem).startswith("bad-feed-name.yaml:2:5: error: feeds[0].name: ")
    assert "'Example Wire'" in problem.message
    assert "^[a-z0-9]" not in problem.message


def test_unclosed_bracket_error_points_at_the_bracket(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given `tags: [world, sport` on line 4 with no closing bracket
    monkeypatch.chdir(INVALID)

    with pytest.raises(ConfigError) as caught:
        load_settings(Path("yaml-syntax-error.yaml"), {})

    # Then the error is a YAML syntax error that leads the user to line 4, where the
    # unclosed '[' is (PyYAML only notices it on line 5)
    [problem] = caught.value.problems
    assert str(problem).startswith("yaml-syntax-error.yaml:")
    assert "invalid YAML" in problem.message
    assert problem.pos is not None
    assert problem.pos.line == 4 or "line 4" in problem.message


# --- units, paths, schedules and checks --------------------------------------------------


@pytest.mark.parametrize("written", ["15", "15.5", "'15'"])
def test_a_duration_without_a_unit_is_refused(tmp_path: Path, written: str) -> None:
    # Given an interval written as a bare number (it used to mean seconds, silently)
    path = _write(tmp_path, f"defaults:\n  interval: {written}\n")

    # When it is loaded, then the error says to add a unit, at the value's line
    [problem] = _problems(path)
    assert problem.startswith(f"{path}:2:")
    assert "no unit" in problem and "s or " in problem


def test_relative_paths_are_read_from_the_config_files_folder(tmp_path: Path) -> None:
    # Given a config in its own folder naming its rules, seeds, templates and SQLite file
    folder = tmp_path / "etc" / "monitor"
    folder.mkdir(parents=True)
    path = _write(
        folder,
        "database_url: sqlite:///state/monitor.db?timeout=5\n"
        "rules_dir: my-rules\nseeds_dir: ../seeds\nalerts: {templates_dir: templates}\n"
        "cache_dir: cache\n",
    )

    settings = load_settings(path, {})

    assert settings.database_url == f"sqlite:///{folder / 'state/monitor.db'}?timeout=5"
    assert settings.rules_dir == folder / "my-rules"
    assert settings.seeds_dir == folder / "../seeds"
    assert settings.cache_dir == folder / "cache"
    assert settings.alerts.templates_dir == folder / "templates"


def test_relative_paths_from_the_environment_are_read_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "conf"
    folder.mkdir()
    path = _write(folder, "rules_dir: from-file\n")

    settings = load_settings(
        path,
        {
            "MONITOR_RULES_DIR": "from-env",
            "MONITOR_DATABASE_URL": "sqlite:///db/x.db",
            "MONITOR_CACHE_DIR": "cache-env",
        },
    )

    assert settings.rules_dir == tmp_path / "from-env"
    assert settings.cache_dir == tmp_path / "cache-env"
    assert settings.database_url == f"sqlite:///{tmp_path / 'db/x.db'}"
    assert settings.seeds_dir == folder / "seeds"  # the default, beside the config file


def test_a_null_cache_dir_keeps_the_dictionaries_in_memory(tmp_path: Path) -> None:
    assert load_settings(_write(tmp_path, "cache_dir: null\n"), {}).cache_dir is None


@pytest.mark.parametrize(
    "url", ["sqlite:////abs/monitor.db", "sqlite:///:memory:", "postgresql://h/db"]
)
def test_absolute_and_non_file_urls_are_left_alone(tmp_path: Path, url: str) -> None:
    path = _write(tmp_path, f"database_url: '{url}'\n")

    assert load_settings(path, {}).database_url == url


def test_a_digest_runs_on_a_cron_or_every_so_often(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "targets:\n"
        "  - {name: a, urls: ['json://localhost'], mode: digest, digest: {every: 1h}}\n"
        "  - {name: b, urls: ['json://localhost'], mode: digest,\n"
        "     digest: {cron: '0 8 * * 1-5', timezone: Asia/Seoul}}\n",
    )

    a, b = load_settings(path, {}).targets

    assert a.digest is not None and a.digest.every == timedelta(hours=1)
    assert b.digest is not None and b.digest.cron == "0 8 * * 1-5"


def test_a_digest_needs_exactly_one_schedule(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "targets:\n  - name: a\n    urls: ['json://localhost']\n    mode: digest\n"
        "    digest: {cron: '0 8 * * *', every: 1h}\n",
    )

    [problem] = _problems(path)

    assert problem.startswith(f"{path}:5:") and "either cron" in problem


def test_feed_health_alerts_must_go_to_a_configured_target(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "targets:\n  - {name: ops, urls: ['json://localhost']}\n"
        "feed_health:\n  notify: [ops, opz]\n  after: 12h\n",
    )

    [problem] = _problems(path)

    assert problem == (
        f"{path}:4:17: error: feed_health.notify[1]: no target named 'opz' (targets: ops)"
    )


def test_checks_of_other_modules_point_into_the_file(tmp_path: Path) -> None:
    # Given a check (as the daemon runs on digest crons) that objects to a target's key
    path = _write(tmp_path, "targets:\n  - name: a\n    urls: ['json://localhost']\n")

    def check(settings: Settings) -> list[tuple[tuple[str | int, ...], str]]:
        return [(("targets", 0, "name"), f"targets[0].name: '{settings.targets[0].name}' no")]

    with pytest.raises(ConfigError) as caught:
        load_settings(path, {}, checks=[check])

    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:5: error: targets[0].name: 'a' no"
    ]
