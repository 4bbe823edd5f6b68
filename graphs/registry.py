"""Which graphs exist: ingest and publish, plus every exporter registered under
`librarian.exporters`."""

from __future__ import annotations

from importlib.metadata import entry_points

from graphs.spec import GraphSpec

__all__ = ["NOT_EXPORTS", "GraphSpec", "export_formats", "graphs"]
NOT_EXPORTS = frozenset({"ingest", "publish"})  # job kinds that make no artifact


def _builtin() -> dict[str, GraphSpec]:
    from graphs import documents, ingest, podcast, publish, video  # compiled on first use

    return {
        "ingest": GraphSpec("ingest", ingest.build_graph, ingest.STAGES, "import a source"),
        "publish": publish.SPEC,
        "podcast": podcast.SPEC,
        "video": video.SPEC,
        **documents.SPECS,
    }


def graphs() -> dict[str, GraphSpec]:
    found = _builtin()
    for ep in entry_points(group="librarian.exporters"):
        if ep.name not in found:
            spec = ep.load()
            if isinstance(spec, GraphSpec):
                found[ep.name] = spec
    return found


def export_formats() -> list[str]:
    return sorted(name for name in graphs() if name not in NOT_EXPORTS)
