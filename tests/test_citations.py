"""Citation network: reference parsing, matching, and CITES edges in either import order."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agents.citations import match, parse_reference
from server import runner
from services import lineage as provenance
from storage import db, edges, vectors
from storage.models import Source
from storage.settings import Settings, load_settings
from tests.conftest import PAPERS

PAPERMAGE = PAPERS / "papermage_lo2023_emnlp_demo.pdf"
S2ORC = PAPERS / "s2orc_lo2020_acl.pdf"


def src(**kw: Any) -> Source:
    base: dict[str, Any] = {"id": "x", "title": "", "authors": [], "published": None,
                            "doi": None, "arxiv_id": None}
    return Source(**{**base, **kw})


def test_parse_acl_style() -> None:
    ref = parse_reference("Kyle Lo, Lucy Lu Wang, Mark Neumann, Rodney Kinney, and Daniel Weld. "
                          "2020. S2ORC: The semantic scholar open research corpus. In "
                          "Proceedings of the 58th Annual Meeting of the ACL, pages 4969–4983.")
    assert (ref.title, ref.year, ref.first_author) == (
        "S2ORC: The semantic scholar open research corpus", 2020, "Lo")


def test_parse_numbered_and_doi_and_arxiv() -> None:
    ref = parse_reference("1 Acharya, K. R., Sturrock, E. D. and Ehlers, M. R. (2003) Ace "
                          "revisited: a new target for structure-based drug design. Nat. Rev. "
                          "Drug Discovery 2, 891–902")
    assert ref.first_author == "Acharya" and ref.year == 2003
    assert ref.title == "Ace revisited: a new target for structure-based drug design"
    peerj = parse_reference("Eddy SR. 1998. Profile hidden Markov models. Bioinformatics "
                            "14(9):755–763 DOI 10.1093/bioinformatics/14.9.755.")
    assert peerj.doi == "10.1093/bioinformatics/14.9.755" and peerj.first_author == "Eddy"
    arx = parse_reference("Asli Celikyilmaz, Elizabeth Clark, and Jianfeng Gao. 2020. "
                          "Evaluation of text generation: A survey. arXiv preprint "
                          "arXiv:2006.14799.")
    assert arx.arxiv_id == "2006.14799"


def test_match_rules_and_threshold() -> None:
    s2orc = src(title="S2ORC: The Semantic Scholar Open Research Corpus", published="2020",
                doi="10.18653/v1/2020.acl-main.447", arxiv_id="1911.02782")
    assert match(parse_reference("X. 2020. Something else. DOI 10.18653/V1/2020.ACL-MAIN.447"),
                 s2orc) == ("doi", 1.0)
    assert match(parse_reference("X. 2019. Other. arXiv:1911.02782v2"), s2orc) == ("arxiv", 1.0)
    how = match(parse_reference("Lo K. 2020. S2ORC: the Semantic Scholar open research "
                                "corpora. ACL."), s2orc)
    assert how is not None and how[0] == "fuzzy_title" and how[1] >= 0.88
    # the closest wrong title in the test bibliographies stays below the threshold
    assert match(parse_reference("Rodney Kinney and others. 2023. The Semantic Scholar Open "
                                 "Data Platform. ArXiv, abs/2301.10140."), s2orc) is None
    # a matching title with a far-off year is another work
    assert match(parse_reference("A. B. 2009. S2ORC: The Semantic Scholar Open Research "
                                 "Corpus. X."), s2orc) is None


def _fake_embed(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Unit vectors without the model: citations do not depend on embeddings."""
    rng = np.random.default_rng(len(texts))
    m = rng.normal(size=(len(texts), 384)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


async def _import(settings: Settings, path: Path) -> str:
    job = await runner.run_job(settings, await runner.submit(settings, "ingest",
                                                             {"source": str(path)}))
    assert job.status == "completed", job.error
    return str(job.result["source_id"])


async def _cites(settings: Settings, a: str) -> list[tuple[str, dict[str, Any]]]:
    async with db.session(settings) as s:
        return [(e.dst_id, e.props) for e in await edges.edges_from(s, "source", [a], "CITES")]


@pytest.mark.parametrize("order", ["citing_first", "cited_first"])
def test_papermage_cites_s2orc_in_either_order(order: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.embed.embed", _fake_embed)
    settings = load_settings(home=tmp_path / "home")

    async def go() -> None:
        try:
            first, second = (PAPERMAGE, S2ORC) if order == "citing_first" else (S2ORC, PAPERMAGE)
            ids = {first: await _import(settings, first)}
            ids[second] = await _import(settings, second)
            pm, s2 = ids[PAPERMAGE], ids[S2ORC]
            cites = await _cites(settings, pm)
            assert [d for d, _ in cites] == [s2]
            props = cites[0][1]
            assert props["matched_by"] in {"title", "title_in_text"} and props["score"] == 1.0
            assert "S2ORC" in props["reference"]
            assert await _cites(settings, s2) == []  # the 2020 paper does not cite the 2023 one
            net = await provenance.citation_network(settings, s2, depth=2)
            assert net["cited_by"] == [pm] and {n["source_id"] for n in net["nodes"]} == {pm, s2}
        finally:
            await db.dispose()
            vectors.close(settings)

    asyncio.run(go())
