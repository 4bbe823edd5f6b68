"""The Python API of Librarian: one client protocol, an in-process and an HTTP implementation.

    from agents.requests import PodcastRequest
    from server.client import connect

    async with connect() as lib:      # in-process; with LIBRARIAN_API_URL set: the REST server
        job = await lib.export(PodcastRequest(sources=[source_id], minutes=2))
        done = await lib.wait(job["job_id"])

Every method returns JSON-ready dicts shaped like the REST API's responses, so the CLI has one
command body per command whichever implementation runs it. This module imports nothing heavy:
the implementations load the storage layer or httpx only when a client is made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from server.client_api import (
    SETTLED,
    TERMINAL,
    Client,
    Event,
    JobAction,
    Listener,
    ProvenanceKind,
    ProvenanceView,
    export_body,
)

if TYPE_CHECKING:
    from storage.settings import Settings

__all__ = ["SETTLED", "TERMINAL", "Client", "Event", "JobAction", "Listener", "ProvenanceKind",
           "ProvenanceView", "connect", "export_body"]


def connect(settings: Settings | None = None, *, owner: str = "local") -> Client:
    """The REST client when `LIBRARIAN_API_URL` is set, else the in-process one."""
    if settings is None:
        from storage.settings import get_settings

        settings = get_settings()
    if settings.api_url:
        from server.client_http import HttpClient

        return HttpClient(settings)
    from server.client_local import LocalClient

    return LocalClient(settings, owner=owner)
