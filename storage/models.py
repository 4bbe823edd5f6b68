"""The metadata schema: one code path on SQLite and PostgreSQL (see migrations/ for its history)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


class Licence(Base):
    """An SPDX-style licence with the flags that decide what may be done with derived content."""

    __tablename__ = "licences"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(300))
    commercial_use_allowed: Mapped[bool | None] = mapped_column(Boolean)
    attribution_required: Mapped[bool | None] = mapped_column(Boolean)
    share_alike_required: Mapped[bool | None] = mapped_column(Boolean)
    derivatives_allowed: Mapped[bool | None] = mapped_column(Boolean)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()
    admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Source(Base):
    """Anything imported: paper, pdf, webpage, document, audio, video."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("owner", "content_hash", name="uq_sources_owner_hash"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[Any]] = mapped_column(default=list)
    published: Mapped[str | None] = mapped_column(String(40))
    abstract: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    site: Mapped[str | None] = mapped_column(String(300))
    doi: Mapped[str | None] = mapped_column(String(200), index=True)
    arxiv_id: Mapped[str | None] = mapped_column(String(50))
    language: Mapped[str | None] = mapped_column(String(20))
    pages: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    content_hash: Mapped[str] = mapped_column(String(64))
    object_key: Mapped[str | None] = mapped_column(Text)  # the original file
    filename: Mapped[str | None] = mapped_column(Text)
    licence_id: Mapped[str | None] = mapped_column(ForeignKey("licences.id"))
    licence_evidence: Mapped[str | None] = mapped_column(Text)
    references: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    status: Mapped[str] = mapped_column(String(20), default="ready")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Chunk(Base):
    """A paragraph-sized piece of a source with where it sits: page, character span, timestamps."""

    __tablename__ = "chunks"
    __table_args__ = (Index("ix_chunks_source_seq", "source_id", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="paragraph")
    text: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    char_start: Mapped[int] = mapped_column(Integer)
    char_end: Mapped[int] = mapped_column(Integer)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    heading_path: Mapped[list[Any]] = mapped_column(default=list)


class Figure(Base):
    __tablename__ = "figures"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100))
    caption: Mapped[str] = mapped_column(Text)
    page: Mapped[int | None] = mapped_column(Integer)
    bbox: Mapped[list[Any] | None] = mapped_column()
    object_key: Mapped[str | None] = mapped_column(Text)


class Artifact(Base):
    """Something generated: a podcast, a video, a report."""

    __tablename__ = "artifacts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="ready")  # ready | orphaned
    job_id: Mapped[str | None] = mapped_column(String(36), index=True)
    files: Mapped[dict[str, Any]] = mapped_column(default=dict)  # role -> object key
    duration_s: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    recipe: Mapped[dict[str, Any]] = mapped_column(default=dict)  # how to regenerate it exactly
    version_of: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column()


class Segment(Base):
    """A piece of an artifact: a script line, a scene, a card."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_artifact_seq", "artifact_id", "seq"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    artifact_id: Mapped[str] = mapped_column(ForeignKey("artifacts.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20), default="line")
    speaker: Mapped[str | None] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text)
    start_s: Mapped[float | None] = mapped_column(Float)
    end_s: Mapped[float | None] = mapped_column(Float)
    support: Mapped[float | None] = mapped_column(Float)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)


class Edge(Base):
    """A provenance edge: (src_type, src_id) -REL-> (dst_type, dst_id) with properties."""

    __tablename__ = "edges"
    __table_args__ = (
        UniqueConstraint("src_type", "src_id", "rel", "dst_type", "dst_id", name="uq_edges"),
        Index("ix_edges_src", "src_type", "src_id"),
        Index("ix_edges_dst", "dst_type", "dst_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    src_type: Mapped[str] = mapped_column(String(20))
    src_id: Mapped[str] = mapped_column(String(200))
    rel: Mapped[str] = mapped_column(String(30))
    dst_type: Mapped[str] = mapped_column(String(20))
    dst_id: Mapped[str] = mapped_column(String(200))
    props: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Job(Base):
    """What a job list needs; stage, trace and resumption come from the LangGraph checkpoints."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_priority", "status", "priority"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    graph: Mapped[str] = mapped_column(String(50))
    input: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    stage: Mapped[str | None] = mapped_column(String(50))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PlatformToken(Base):
    """An owner's OAuth tokens for a publishing platform, encrypted (storage.tokens)."""

    __tablename__ = "platform_tokens"
    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Trend(Base):
    """A trending topic as one feed reported it at one time."""

    __tablename__ = "trends"
    __table_args__ = (Index("ix_trends_region_time", "region", "fetched_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(30))  # youtube | google_trends
    region: Mapped[str] = mapped_column(String(10))
    category: Mapped[str | None] = mapped_column(String(20))
    topic: Mapped[str] = mapped_column(Text)
    volume: Mapped[float] = mapped_column(Float, default=0.0)  # views / searches
    score: Mapped[float] = mapped_column(Float, default=0.0)  # virality, 0..1
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlatformMetric(Base):
    """How a published artifact performs on one platform at one time."""

    __tablename__ = "platform_metrics"
    __table_args__ = (Index("ix_platform_metrics_artifact", "artifact_id", "platform"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    artifact_id: Mapped[str] = mapped_column(String(36))
    platform: Mapped[str] = mapped_column(String(20))
    video_id: Mapped[str] = mapped_column(String(200))
    views: Mapped[int | None] = mapped_column(Integer)
    likes: Mapped[int | None] = mapped_column(Integer)
    comments: Mapped[int | None] = mapped_column(Integer)
    shares: Mapped[int | None] = mapped_column(Integer)
    watch_minutes: Mapped[float | None] = mapped_column(Float)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class OwnerProfile(Base):
    """An owner's configuration: the brand voice the writers, renderer and publisher apply."""

    __tablename__ = "owner_profiles"
    owner: Mapped[str] = mapped_column(String(200), primary_key=True)
    brand_voice: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
