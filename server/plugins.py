"""Importer and exporter plugins: what is installed, and which are disabled.

Disabled names live in HOME/plugins.json (written atomically); the API passes them into each
ingest job (`disabled`), and refuses exports in a disabled format.
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from agents.importers import importers
from graphs.registry import NOT_EXPORTS, graphs
from storage.errors import NotFound
from storage.settings import Settings


def _path(settings: Settings) -> Any:
    return settings.home / "plugins.json"


def disabled(settings: Settings) -> set[str]:
    try:
        data = json.loads(_path(settings).read_text())
    except (FileNotFoundError, ValueError):
        return set()
    return {str(x) for x in data.get("disabled", [])} if isinstance(data, dict) else set()


def _save(settings: Settings, names: set[str]) -> None:
    path = _path(settings)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-plugins-")
    with os.fdopen(fd, "w") as f:
        json.dump({"disabled": sorted(names)}, f)
    os.replace(tmp, path)


def listing(settings: Settings, group: str) -> list[dict[str, Any]]:
    """Installed plugins of a group ("import" or "export") with their state."""
    off = disabled(settings)
    if group == "import":
        return [{"id": name, "group": "import", "enabled": name not in off,
                 "description": (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""}
                for name, fn in sorted(importers().items())]
    return [{"id": name, "group": "export", "enabled": name not in off,
             "description": spec.description}
            for name, spec in sorted(graphs().items()) if name not in NOT_EXPORTS]


def set_enabled(settings: Settings, plugin_id: str, enabled: bool) -> dict[str, Any]:
    """Enable or disable one installed plugin; NotFound for an unknown id."""
    known = {p["id"]: p for group in ("import", "export") for p in listing(settings, group)}
    if plugin_id not in known:
        raise NotFound(f"no plugin {plugin_id!r} (installed: {', '.join(sorted(known))})")
    names = disabled(settings)
    if enabled:
        names.discard(plugin_id)
    else:
        names.add(plugin_id)
    _save(settings, names)
    return {**known[plugin_id], "enabled": enabled}
