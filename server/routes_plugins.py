"""Plugins: list importers and exporters; enable or disable one (admin keys only: the switch
holds for every owner)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from server import plugins
from server.auth import AdminOwner, Owner, SettingsDep

router = APIRouter(tags=["plugins"])


class PluginOut(BaseModel):
    id: str
    group: str
    enabled: bool
    description: str


@router.get("/api/plugins/import", response_model=list[PluginOut])
async def import_plugins(settings: SettingsDep, owner: Owner) -> list[dict[str, Any]]:
    """Importer plugins (entry points `librarian.importers`)."""
    return plugins.listing(settings, "import")


@router.get("/api/plugins/export", response_model=list[PluginOut])
async def export_plugins(settings: SettingsDep, owner: Owner) -> list[dict[str, Any]]:
    """Exporter plugins (entry points `librarian.exporters`)."""
    return plugins.listing(settings, "export")


@router.post("/api/plugins/{plugin_id}/enable", response_model=PluginOut)
async def enable_plugin(plugin_id: str, settings: SettingsDep, owner: AdminOwner
                        ) -> dict[str, Any]:
    """Switch a plugin on for every owner (admin key)."""
    return plugins.set_enabled(settings, plugin_id, True)


@router.post("/api/plugins/{plugin_id}/disable", response_model=PluginOut)
async def disable_plugin(plugin_id: str, settings: SettingsDep, owner: AdminOwner
                         ) -> dict[str, Any]:
    """Switch a plugin off for every owner (admin key)."""
    return plugins.set_enabled(settings, plugin_id, False)
