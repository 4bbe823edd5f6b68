"""Settings: embedded defaults, and one clear line for every malformed URL or missing secret."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from storage.errors import ConfigError
from storage.settings import load_settings
from tests.conftest import REPO, clean_env


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env(monkeypatch)
    monkeypatch.setenv("LIBRARIAN_HOME", str(tmp_path / "home"))


def test_defaults_are_embedded(tmp_path: Path) -> None:
    cfg = load_settings(_env_file=None)
    assert cfg.home == tmp_path / "home" and cfg.home.is_dir()
    assert cfg.db_url == f"sqlite+aiosqlite:///{tmp_path / 'home' / 'library.sqlite'}"
    assert not cfg.is_postgres
    assert cfg.redis_url is None and cfg.s3_url is None and cfg.qdrant_url is None
    assert cfg.neo4j_url is None and cfg.llm_base_url is None
    assert cfg.objects_dir == cfg.home / "objects"
    assert cfg.vectors_dir == cfg.home / "vectors"
    assert cfg.fetch_allow_hosts == []


def test_postgres_url_is_normalised_to_asyncpg() -> None:
    cfg = load_settings(database_url="postgresql://u@db.example:5432/lib", _env_file=None)
    assert cfg.db_url == "postgresql+asyncpg://u@db.example:5432/lib"
    assert cfg.is_postgres


@pytest.mark.parametrize(("env", "value", "needle"), [
    ("LIBRARIAN_DATABASE_URL", "mysql://u@h/db", "LIBRARIAN_DATABASE_URL"),
    ("LIBRARIAN_DATABASE_URL", "postgresql:///nohost", "no host"),
    ("LIBRARIAN_DATABASE_URL", "not a url", "LIBRARIAN_DATABASE_URL"),
    ("LIBRARIAN_REDIS_URL", "http://localhost:6379", "LIBRARIAN_REDIS_URL"),
    ("LIBRARIAN_S3_URL", "s3:/bucket", "LIBRARIAN_S3_URL"),
    ("LIBRARIAN_QDRANT_URL", "localhost:6333", "LIBRARIAN_QDRANT_URL"),
    ("LIBRARIAN_NEO4J_URL", "http://localhost:7474", "LIBRARIAN_NEO4J_URL"),
])
def test_malformed_url_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, env: str, value: str,
                                         needle: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None)
    msg = str(err.value)
    assert "\n" not in msg
    assert needle in msg
    assert msg.startswith("invalid setting")


@pytest.mark.parametrize(("env", "needle"), [
    ({"LIBRARIAN_S3_URL": "http://127.0.0.1:9000"}, "LIBRARIAN_S3_ACCESS_KEY"),
    ({"LIBRARIAN_S3_URL": "http://127.0.0.1:9000", "LIBRARIAN_S3_ACCESS_KEY": "k"},
     "LIBRARIAN_S3_SECRET_KEY"),
    ({"LIBRARIAN_NEO4J_URL": "bolt://127.0.0.1:7687"}, "LIBRARIAN_NEO4J_PASSWORD"),
    ({"LIBRARIAN_LLM_BASE_URL": "http://127.0.0.1:11434/v1"}, "LIBRARIAN_LLM_MODEL"),
])
def test_missing_credential_is_one_clear_line(monkeypatch: pytest.MonkeyPatch,
                                              env: dict[str, str], needle: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None)
    assert "\n" not in str(err.value)
    assert needle in str(err.value)


@pytest.mark.parametrize("placeholder", ["changeme", "password", "CHANGEME ", "secret"])
def test_placeholder_secrets_are_refused(monkeypatch: pytest.MonkeyPatch, placeholder: str) -> None:
    monkeypatch.setenv("LIBRARIAN_S3_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("LIBRARIAN_S3_ACCESS_KEY", "librarian")
    monkeypatch.setenv("LIBRARIAN_S3_SECRET_KEY", placeholder)
    with pytest.raises(ConfigError, match="LIBRARIAN_S3_SECRET_KEY is a placeholder"):
        load_settings(_env_file=None)


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIBRARIAN_S3_URL", "http://127.0.0.1:9000")
    monkeypatch.setenv("LIBRARIAN_S3_ACCESS_KEY", "librarian")
    monkeypatch.setenv("LIBRARIAN_S3_SECRET_KEY", "a-real-looking-s3cr3t")
    cfg = load_settings(_env_file=None)
    assert cfg.s3_secret_key is not None
    assert cfg.s3_secret_key.get_secret_value() == "a-real-looking-s3cr3t"
    assert "a-real-looking-s3cr3t" not in repr(cfg)
    assert "a-real-looking-s3cr3t" not in str(cfg.model_dump())


def test_cli_with_malformed_database_url_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update(LIBRARIAN_HOME=str(tmp_path / "home"), LIBRARIAN_DATABASE_URL="mysql://u@h/db")
    proc = subprocess.run([sys.executable, "-m", "server.cli", "sources"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "LIBRARIAN_DATABASE_URL" in lines[0] and lines[0].startswith("error:")
    assert "Traceback" not in proc.stderr and proc.stdout == ""
