"""One settings object, read from `LIBRARIAN_*` environment variables (and `.env`).

Unset service URLs mean the embedded default: SQLite, a local object folder, Qdrant local
mode and in-process jobs, all under `LIBRARIAN_HOME`. Secrets come only from the environment
and are never logged (they are `SecretStr`).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.errors import ConfigError

PLACEHOLDER_SECRETS = {"changeme", "changethis", "change-me", "secret", "password", "xxx", "todo"}


def _check_url(value: str | None, schemes: set[str], name: str) -> str | None:
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in schemes:
        got = value.split(":")[0]
        raise ValueError(f"{name} must start with one of {sorted(schemes)}, got {got!r}")
    if parts.scheme not in {"sqlite", "sqlite+aiosqlite"} and not parts.hostname:
        raise ValueError(f"{name} has no host: {value!r}")
    return value


def _check_fernet(key: str) -> None:
    """A Fernet key is 32 random bytes, url-safe base64 (44 characters)."""
    import base64
    import binascii

    try:
        raw = base64.urlsafe_b64decode(key.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("LIBRARIAN_TOKEN_KEY is not a Fernet key (32 url-safe base64 bytes; "
                         "make one with `librarian publish keygen`)")


class Settings(BaseSettings):
    """Every setting of the service; see README for the list."""

    model_config = SettingsConfigDict(env_prefix="LIBRARIAN_", env_file=".env", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".librarian")
    database_url: str | None = None
    redis_url: str | None = None
    s3_url: str | None = None
    s3_access_key: SecretStr | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "librarian"
    s3_region: str = "us-east-1"
    qdrant_url: str | None = None
    qdrant_api_key: SecretStr | None = None
    neo4j_url: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: SecretStr | None = None
    api_url: str | None = None  # the CLI talks to this server instead of the local library
    api_key: SecretStr | None = None  # bearer token the CLI sends to api_url

    # fetching
    fetch_allow_hosts: list[str] = Field(default_factory=list)  # hosts/IPs exempt from SSRF checks
    max_download_bytes: int = 200 * 1024 * 1024
    fetch_timeout_s: float = 60.0

    # extraction limits (tools.limits): each breach is a 413 / one CLI line naming the setting
    max_decompressed_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)  # zip members, total
    max_zip_members: int = Field(default=10_000, ge=1)
    max_xml_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)  # a .docx's XML parts
    max_xml_elements: int = Field(default=1_000_000, ge=100)  # a .docx / an HTML page
    max_html_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_pdf_pages: int = Field(default=2_000, ge=1)
    max_image_pixels: int = Field(default=40_000_000, ge=10_000)  # one rendered figure
    max_text_chars: int = Field(default=32_000_000, ge=1000)  # extracted text of one source
    max_chunks_per_source: int = Field(default=50_000, ge=1)
    max_chunk_chars: int = Field(default=20_000, ge=500)

    # models
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    elevenlabs_api_key: SecretStr | None = None
    elevenlabs_url: str = "https://api.elevenlabs.io"  # voice cloning (tools.voice_clone)
    kling_api_key: SecretStr | None = None  # cloud video clips (tools.video_backends)
    veo_api_key: SecretStr | None = None
    runway_api_key: SecretStr | None = None
    synthesia_api_key: SecretStr | None = None
    voices_dir: Path | None = None  # extra Piper voices (*.onnx + *.onnx.json); default HOME/voices
    whisper_model: Path | None = None  # a local CTranslate2 Whisper model folder
    # offline models installed by scripts/models.py (Kokoro, Whisper base, the CI's local LLM)
    models_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "librarian" / "models")
    # default voices: "auto" = Kokoro when installed, else Piper; "piper" = the fast engine
    voice_engine: Literal["auto", "kokoro", "piper"] = "auto"
    tts_workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))

    # jobs
    job_max_attempts: int = 3
    manual_retry_limit: int = 10

    # server
    auth: Literal["keys", "none"] = "keys"  # "none": single-user mode, every request is "local"
    max_upload_bytes: int = 100 * 1024 * 1024  # a multipart upload (reading stops here: 413)
    max_json_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # any other request body
    rate_limit: str = "50/second;1200/minute"  # per API key (else per address); "" = none
    auth_fail_limit: str = "20/minute"  # bad keys per client address, then 429 for a while
    export_quota: dict[str, int] = Field(default_factory=lambda: {"video": 3})  # per owner, day
    job_concurrency: int = Field(default=1, ge=1, le=8)  # in-process runner slots per server
    job_lease_s: float = Field(default=15.0, gt=1)  # worker mode: a dead worker's job restarts
    redis_prefix: str = "librarian"  # Redis key / channel prefix (arq queue, progress events)

    # publishing, trends, analytics (services.publishing / trends / analytics): platform base
    # URLs are settings so tests point them at local fakes
    token_key: SecretStr | None = None  # Fernet key: platform OAuth tokens encrypted at rest
    youtube_client_id: str | None = None  # OAuth 2.0 installed-app client (Google Cloud)
    youtube_client_secret: SecretStr | None = None
    youtube_api_key: SecretStr | None = None  # videos.list chart=mostPopular (trends)
    youtube_api_url: str = "https://www.googleapis.com"  # Data API and its /upload endpoint
    youtube_analytics_url: str = "https://youtubeanalytics.googleapis.com"
    google_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    google_token_url: str = "https://oauth2.googleapis.com/token"
    google_trends_url: str = "https://trends.google.com/trending/rss"
    tiktok_client_key: str | None = None  # TikTok for Developers app (Content Posting API)
    tiktok_client_secret: SecretStr | None = None
    tiktok_api_url: str = "https://open.tiktokapis.com"
    tiktok_auth_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    publish_quota: int = Field(default=10, ge=0)  # per owner and day (0: switched off)
    publish_chunk_bytes: int = Field(default=8 * 1024 * 1024, ge=256 * 1024)  # upload chunk
    publish_poll_s: float = Field(default=5.0, gt=0)  # TikTok status polling interval
    publish_poll_max_s: float = Field(default=600.0, gt=0)  # give up waiting after this
    trends_refresh_hours: int = Field(default=6, ge=0, le=24)  # arq cron (0: off)
    trends_regions: list[str] = Field(default_factory=lambda: ["US"])  # refreshed by the cron
    trend_support_min: float = Field(default=0.45, ge=0, le=1)  # a supporting hit's similarity
    analytics_refresh_hours: int = Field(default=1, ge=0, le=24)  # arq cron (0: off)

    @field_validator("database_url")
    @classmethod
    def _db(cls, v: str | None) -> str | None:
        v = _check_url(v, {"sqlite", "sqlite+aiosqlite", "postgresql", "postgresql+asyncpg",
                           "postgres"}, "LIBRARIAN_DATABASE_URL")
        if v and v.startswith(("postgresql://", "postgres://")):
            v = "postgresql+asyncpg://" + v.split("://", 1)[1]
        if v and v.startswith("sqlite://"):
            v = "sqlite+aiosqlite://" + v.split("://", 1)[1]
        return v

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, v: str | None) -> str | None:
        return _check_url(v, {"redis", "rediss", "unix"}, "LIBRARIAN_REDIS_URL")

    @field_validator("s3_url", "qdrant_url", "api_url", "llm_base_url", "youtube_api_url",
                     "youtube_analytics_url", "google_auth_url", "google_token_url",
                     "google_trends_url", "tiktok_api_url", "tiktok_auth_url", "elevenlabs_url")
    @classmethod
    def _http(cls, v: str | None, info: object) -> str | None:
        name = "LIBRARIAN_" + str(getattr(info, "field_name", "url")).upper()
        return _check_url(v, {"http", "https"}, name)

    @field_validator("rate_limit", "auth_fail_limit")
    @classmethod
    def _rates(cls, v: str, info: ValidationInfo) -> str:
        if v == cls.model_fields[str(info.field_name)].default:
            return v  # ours, known good: no need to import the limits library to parse it
        if v.strip().lower() not in ("", "none", "off"):
            from limits import parse_many

            try:
                parse_many(v)
            except ValueError:
                raise ValueError(f"{v!r} is not a rate like '50/second;1200/minute'") from None
        return v

    @field_validator("token_key", "youtube_client_secret", "youtube_api_key",
                     "tiktok_client_secret", mode="before")
    @classmethod
    def _unset_when_empty(cls, v: object) -> object:
        return None if v == "" else v

    @field_validator("neo4j_url")
    @classmethod
    def _neo4j(cls, v: str | None) -> str | None:
        return _check_url(v, {"bolt", "bolt+s", "neo4j", "neo4j+s"}, "LIBRARIAN_NEO4J_URL")

    @model_validator(mode="after")
    def _credentials(self) -> Settings:
        if self.s3_url and not (self.s3_access_key and self.s3_secret_key):
            raise ValueError("LIBRARIAN_S3_URL is set but LIBRARIAN_S3_ACCESS_KEY or "
                             "LIBRARIAN_S3_SECRET_KEY is missing")
        if self.neo4j_url and not self.neo4j_password:
            raise ValueError("LIBRARIAN_NEO4J_URL is set but LIBRARIAN_NEO4J_PASSWORD is missing")
        if self.llm_base_url and not self.llm_model:
            raise ValueError("LIBRARIAN_LLM_BASE_URL is set but LIBRARIAN_LLM_MODEL is missing")
        for name in ("s3_secret_key", "neo4j_password", "llm_api_key", "elevenlabs_api_key",
                     "api_key", "token_key", "youtube_client_secret", "youtube_api_key",
                     "tiktok_client_secret"):
            secret = getattr(self, name)
            value = secret.get_secret_value().strip().lower() if secret is not None else ""
            if value in PLACEHOLDER_SECRETS:
                raise ValueError(f"LIBRARIAN_{name.upper()} is a placeholder value; set a real one")
        if self.token_key is not None:
            _check_fernet(self.token_key.get_secret_value())
        return self

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.home / 'library.sqlite'}"

    @property
    def is_postgres(self) -> bool:
        return self.db_url.startswith("postgresql")

    @property
    def objects_dir(self) -> Path:
        return self.home / "objects"

    @property
    def vectors_dir(self) -> Path:
        return self.home / "vectors"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def voices_path(self) -> Path:
        return self.voices_dir or self.home / "voices"

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def load_settings(**overrides: object) -> Settings:
    """Read settings; a malformed value becomes one clear `ConfigError` line."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ()))
        msg = str(first.get("msg", exc)).removeprefix("Value error, ")
        raise ConfigError(f"invalid setting{' ' + field if field else ''}: {msg}") from None
    settings.home.mkdir(parents=True, exist_ok=True)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests call `get_settings.cache_clear()` after changing env)."""
    return load_settings()
