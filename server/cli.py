"""The `librarian` command line: every command group assembled on one typer app.

Each group lives in its own module (`cli_library`, `cli_jobs`, `cli_make`, `cli_provenance`,
`cli_chat`, `cli_admin`, `cli_eval`) and runs its one body over the client protocol
(`server.client`): in-process, or against the REST server when LIBRARIAN_API_URL is set.
Imports flow one way (this module -> cli_* -> cli_common); `make` is loaded only when it runs,
so `librarian --help` and the read commands start without the request models' imports.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from server import (
    cli_admin,
    cli_chat,
    cli_eval,
    cli_jobs,
    cli_library,
    cli_provenance,
    cli_publish,
    cli_review,
)


class MakeGroup(TyperGroup):
    """`librarian make ...`: its commands come from `server.cli_make` and `server.cli_exports`,
    imported on first use."""

    def _group(self) -> TyperGroup:
        from server import cli_exports  # cli_make's app, with the written kinds added

        return typer.main.get_group(cli_exports.app)

    def list_commands(self, ctx: Any) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        return self._group().get_command(ctx, cmd_name)


app = typer.Typer(help="Librarian: import knowledge, generate traced podcasts and videos.",
                  no_args_is_help=True, pretty_exceptions_enable=False,
                  rich_markup_mode=None)  # plain click help: rich's formatter costs 0.3 s
for group in (cli_library.app, cli_jobs.app, cli_review.app, cli_provenance.app, cli_chat.app,
              cli_admin.app, cli_eval.app, cli_publish.app):
    app.registered_commands += group.registered_commands
app.add_typer(typer.Typer(cls=MakeGroup, rich_markup_mode=None), name="make", no_args_is_help=True,
              help="Generate content from library sources: podcast, video, report, ebook, "
                   "flashcards, quiz, newsletter, slides.")
app.add_typer(cli_admin.keys_app, name="keys")
app.add_typer(cli_admin.plugins_app, name="plugins")


def main(*args: Any) -> None:
    """The `librarian` entry point (the same app as `python -m server.cli`)."""
    app(*args)


if __name__ == "__main__":
    main()
