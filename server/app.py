"""The FastAPI app: REST under /api, job progress over WebSocket and SSE, the web studio at /
(`server.routes_web`), OpenAPI at /docs and /redoc with their assets served by the app
(fastapi-offline), so every page works on a machine without internet.

Library errors map to HTTP by how they are handled: TooLarge 413, BadInput 400, NotFound 404,
Forbidden 403, Conflict 409, ConfigError and Retryable 503, RateLimited 429 (with Retry-After);
each carries its one-line reason in `detail`. Request bodies and rates are limited by
`server.limits` middleware (outermost: the body limit, so an oversize body is refused first).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from server import events, executor, limits
from storage import db
from storage.errors import (
    BadInput,
    ConfigError,
    Conflict,
    Forbidden,
    LibrarianError,
    NotFound,
    Retryable,
    TooLarge,
)
from storage.settings import Settings, get_settings

STATUS = {TooLarge: 413, BadInput: 400, NotFound: 404, Forbidden: 403, Conflict: 409,
          ConfigError: 503, Retryable: 503}


async def library_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, limits.RateLimited):
        return JSONResponse({"detail": str(exc)}, status_code=429,
                            headers={"Retry-After": str(exc.retry_after)})
    code = next((c for t, c in STATUS.items() if isinstance(exc, t)), 400)
    return JSONResponse({"detail": str(exc)}, status_code=code)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app for these settings (default: the process-wide settings)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await db.migrate(settings)
        await executor.start(settings)
        try:
            yield
        finally:
            await executor.stop()
            await events.close()
            await db.dispose(settings)

    from server import (
        health,
        routes_analytics,
        routes_batch,
        routes_chat,
        routes_config,
        routes_content,
        routes_jobs,
        routes_keys,
        routes_plugins,
        routes_provenance,
        routes_publish,
        routes_studio,
        routes_trends,
        routes_web,
    )

    app = FastAPIOffline(
        title="Librarian", version="0.1.0", lifespan=lifespan,
        description="Import knowledge into a library; generate traced content from it.")
    app.state.settings = settings
    app.add_exception_handler(LibrarianError, library_error)
    app.include_router(routes_content.router)
    app.include_router(routes_jobs.router)
    app.include_router(routes_provenance.router)
    app.include_router(routes_plugins.router)
    app.include_router(routes_chat.router)
    app.include_router(routes_publish.router)
    app.include_router(routes_trends.router)
    app.include_router(routes_analytics.router)
    app.include_router(routes_batch.router)
    app.include_router(routes_config.router)
    app.include_router(health.router)
    app.include_router(routes_keys.router)
    app.include_router(routes_studio.router)
    app.include_router(routes_web.router)
    app.mount("/ui", routes_web.static_files(), name="ui")
    app.add_middleware(limits.RateLimit, settings=settings)  # type: ignore[arg-type]
    app.add_middleware(limits.BodyLimit, settings=settings)  # type: ignore[arg-type]
    app.add_middleware(routes_web.CompressAssets)  # type: ignore[arg-type]
    limits.install_log_redaction()

    return app
