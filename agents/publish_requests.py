"""What a user may ask of publishing, trends and analytics: one typed model each.

Defaults, ranges and allowed values live here only; the CLI, REST and the publish graph's input
all validate through these models.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agents.requests import ID, first_error
from storage.errors import BadInput

Platform = Literal["youtube", "tiktok", "instagram"]
PLATFORMS: tuple[Platform, ...] = ("youtube", "tiktok", "instagram")
Privacy = Literal["private", "unlisted", "public", "friends", "followers"]
YOUTUBE_PRIVACY = {"private": "private", "unlisted": "unlisted", "public": "public"}
TIKTOK_PRIVACY = {"private": "SELF_ONLY", "friends": "MUTUAL_FOLLOW_FRIENDS",
                  "followers": "FOLLOWER_OF_CREATOR", "public": "PUBLIC_TO_EVERYONE"}
Tag = Annotated[str, Field(min_length=1, max_length=30, pattern=r"^[^<>#,]+$")]
MODEL = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class PublishParams(BaseModel):
    """How to publish a video artifact."""

    model_config = MODEL
    privacy: Privacy = "private"
    """private, unlisted (YouTube), friends or followers (TikTok), public."""
    title: Annotated[str, Field(min_length=1, max_length=90)] | None = None
    """Title (default: the artifact's title)."""
    intro: Annotated[str, Field(max_length=1000)] | None = None
    """Your own text at the top of the description or caption."""
    tags: Annotated[list[Tag], Field(max_length=15)] | None = None
    """Tags / hashtags (default: from the title, topic and sources)."""
    credits: bool = True
    """Add the attribution text, source links and licences (refused when off and a source's
    licence requires attribution or share-alike)."""
    playlist: ID | None = None
    """YouTube playlist id to add the video to."""
    category: Annotated[str, Field(pattern=r"^[0-9]{1,3}$")] = "27"
    """YouTube category id (27: Education)."""
    commercial: bool = False
    """The channel is commercial (monetised): every source must allow commercial use."""


class PublishRequest(PublishParams):
    """A publish job's input: the platform and the artifact."""

    platform: Platform
    artifact_id: ID

    @model_validator(mode="after")
    def _privacy_on_platform(self) -> PublishRequest:
        allowed = {"youtube": YOUTUBE_PRIVACY, "tiktok": TIKTOK_PRIVACY}.get(self.platform)
        if allowed is not None and self.privacy not in allowed:
            raise ValueError(f"privacy {self.privacy!r} is not offered by {self.platform} "
                             f"(use one of: {', '.join(allowed)})")
        if self.playlist and self.platform != "youtube":
            raise ValueError("playlist is a YouTube option")
        return self


class TrendsRequest(BaseModel):
    """Trending topics, scored by virality and by what the library can say about them."""

    model_config = MODEL
    region: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "US"
    """ISO 3166 region code."""
    topic: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """Only trends about this niche."""
    category: Annotated[str, Field(pattern=r"^[0-9]{1,3}$")] | None = None
    """YouTube video category id of the chart (default: all)."""
    limit: int = Field(20, ge=1, le=100)
    """How many trends to return."""
    refresh: bool = False
    """Fetch the feeds now instead of using the last stored fetch."""


def validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """The model from a request's fields (None means the default); BadInput names the error."""
    try:
        return model.model_validate({k: v for k, v in data.items() if v is not None})
    except ValidationError as exc:
        raise BadInput(first_error(exc)) from None
