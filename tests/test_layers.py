"""The code's layers: imports flow server -> graphs -> services -> agents -> tools -> storage,
tools never touch the database, and no module imports itself back through others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import grimp

REPO = Path(__file__).resolve().parent.parent
BELOW_SERVER = ["graphs", "services", "agents", "tools", "storage"]


def test_import_contracts_in_pyproject_are_kept() -> None:
    """import-linter's contracts (run apart: its CLI reconfigures logging)."""
    cli = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(cli), "--no-cache", "--config", str(REPO / "pyproject.toml")],
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "2 kept, 0 broken" in proc.stdout


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycles() -> None:
    """Lazy imports inside functions count: a cycle is one however late it closes."""
    graph = grimp.build_graph("server", *BELOW_SERVER, exclude_type_checking_imports=True)
    assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle(tmp_path: Path) -> None:
    import sys

    pkg = tmp_path / "loop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from loop import b\n")
    (pkg / "b.py").write_text("def f():\n    from loop import a\n")
    (pkg / "c.py").write_text("from loop import a\n")
    sys.path.insert(0, str(tmp_path))
    try:
        assert cycles(grimp.build_graph("loop")) == [["loop.a", "loop.b"]]
    finally:
        sys.path.remove(str(tmp_path))
