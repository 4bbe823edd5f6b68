"""A batch of videos in one request: each its own job, one batch id to follow them by."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agents.requests import ID, VideoParams

MAX_BATCH = 10


class BatchVideo(BaseModel):
    """One video of the batch: its sources and parameters."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)
    source_ids: Annotated[list[ID], Field(min_length=1, max_length=100)]
    """Library source ids to generate from."""
    parameters: VideoParams = Field(default_factory=lambda: VideoParams.model_validate({}))


class VideoBatchRequest(BaseModel):
    """`POST /api/video/batch`: up to 10 videos, all checked before any is started."""

    model_config = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)
    videos: Annotated[list[BatchVideo], Field(min_length=1, max_length=MAX_BATCH)]
    """The videos (1 to 10)."""
    priority: int = Field(5, ge=1, le=10)
    """Job priority of every video, 1 (low) to 10 (high)."""
