"""Owner configuration: the brand voice profile (stored per owner) and the script templates
(every export style with its defaults, read from the typed request models)."""

from __future__ import annotations

from typing import Any, get_args

from agents.brand import BrandVoice
from agents.doc_requests import ReportParams
from agents.requests import PodcastParams, VideoParams
from services import assets
from storage import db
from storage.errors import BadInput, NotFound
from storage.models import OwnerProfile
from storage.settings import Settings


async def get(settings: Settings, owner: str) -> BrandVoice:
    """The owner's brand voice (empty when never set)."""
    async with db.session(settings) as s:
        row = await s.get(OwnerProfile, owner)
    return BrandVoice.model_validate(row.brand_voice if row else {})


async def put(settings: Settings, owner: str, profile: BrandVoice) -> BrandVoice:
    """Replace the owner's brand voice; its logo must be an image of theirs."""
    if profile.logo:
        try:
            await assets.image_key(settings, owner, profile.logo)
        except NotFound as exc:
            raise BadInput(f"logo: {exc}") from None
    async with db.session(settings) as s:
        row = await s.get(OwnerProfile, owner)
        data = profile.model_dump(mode="json")
        if row is None:
            s.add(OwnerProfile(owner=owner, brand_voice=data))
        else:
            row.brand_voice = data
    return profile


def _styles(model: type[Any]) -> tuple[str, ...]:
    return tuple(get_args(model.model_fields["style"].annotation))


def templates() -> list[dict[str, Any]]:
    """One template per export style: its kind, style and the defaults it starts from."""
    out = []
    for kind, model in (("video", VideoParams), ("podcast", PodcastParams),
                        ("report", ReportParams)):
        for style in _styles(model):
            params = model.model_validate({"style": style}).model_dump(mode="json")
            out.append({"template_id": f"{kind}/{style}", "kind": kind, "style": style,
                        "description": (model.model_fields["style"].description or ""),
                        "parameters": params})
    return out
