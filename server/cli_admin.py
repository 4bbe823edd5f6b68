"""Operator commands: serve, worker, keys, plugins."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import typer

from server.cli_common import JsonOpt, call, console, emit, emit_rows, fail, out, settings, table

app = typer.Typer(rich_markup_mode=None)
keys_app = typer.Typer(rich_markup_mode=None, help="API keys for the REST server.",
                       no_args_is_help=True)
plugins_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True,
                          help="Importer and exporter plugins: list, enable, disable.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the REST API (jobs run in-process, or on arq workers when LIBRARIAN_REDIS_URL is set)."""
    import uvicorn

    from server.app import create_app

    uvicorn.run(create_app(settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Run an arq worker for queued jobs (needs LIBRARIAN_REDIS_URL)."""
    from server import worker as worker_mod

    worker_mod.main(settings(), burst=burst)


def _local(coro_fn: Any) -> Any:
    """Key management works on this machine's database (never through a remote server)."""
    from storage import db
    from storage.errors import LibrarianError

    async def go() -> Any:
        try:
            return await coro_fn(settings())
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except LibrarianError as exc:
        fail(str(exc))


def key_dict(r: Any) -> dict[str, Any]:
    return {"id": r.id, "name": r.name, "owner": r.owner, "admin": r.admin,
            "created_at": r.created_at, "revoked_at": r.revoked_at}


@keys_app.command("create")
def keys_create(
    name: str,
    owner: Annotated[str | None, typer.Option(help="Owner of the key's data (default: NAME).")]
    = None,
    admin: Annotated[bool, typer.Option(help="May switch plugins and manage keys over REST.")]
    = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored (the first key is an admin)."""
    from server import auth

    row, key = _local(lambda cfg: auth.create_key(cfg, name, owner, admin=admin))
    if as_json:
        return emit({**key_dict(row), "key": key})
    scope = " (admin)" if row.admin else ""
    console.print(f"key {row.id} for owner {row.owner!r}{scope} (shown once, keep it):")
    out.print(key)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (never the keys themselves)."""
    from server import auth

    rows = [key_dict(r) for r in _local(auth.list_keys)]
    if as_json:
        return emit_rows(rows)
    table(["id", "name", "owner", "admin", "created", "revoked"],
          [[r["id"], r["name"], r["owner"], "yes" if r["admin"] else "",
            str(r["created_at"])[:19], str(r["revoked_at"] or "")[:19]] for r in rows])


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id or name.")],
                as_json: JsonOpt = False) -> None:
    """Revoke a key (by id, or every live key with that name)."""
    from server import auth

    rows = _local(lambda cfg: auth.revoke_key(cfg, key))
    if as_json:
        return emit_rows([key_dict(r) for r in rows])
    out.print(f"revoked {len(rows)} key(s)")


@plugins_app.command("list")
def plugins_list(as_json: JsonOpt = False) -> None:
    """Installed importers and exporters, and whether each is enabled."""
    async def go(lib: Any) -> list[dict[str, Any]]:
        return [*await lib.plugins("import"), *await lib.plugins("export")]

    rows = call(go)
    if as_json:
        return emit_rows(rows)
    table(["id", "group", "enabled", "description"],
          [[p["id"], p["group"], "yes" if p["enabled"] else "no", p["description"][:80]]
           for p in rows])


def _switch(plugin_id: str, enabled: bool, as_json: bool) -> None:
    row = call(lambda lib: lib.set_plugin(plugin_id, enabled))
    if as_json:
        return emit(row)
    out.print(f"{row['id']} ({row['group']}) {'enabled' if enabled else 'disabled'}")


@plugins_app.command("enable")
def plugins_enable(plugin_id: str, as_json: JsonOpt = False) -> None:
    """Switch a plugin on."""
    _switch(plugin_id, True, as_json)


@plugins_app.command("disable")
def plugins_disable(plugin_id: str, as_json: JsonOpt = False) -> None:
    """Switch a plugin off (imports of that kind and exports in that format are refused)."""
    _switch(plugin_id, False, as_json)
