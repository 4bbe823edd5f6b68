"""Chunk hygiene and the sparse tokenizer: pure functions, no services."""

from __future__ import annotations

from tools.chunking import chunk_document
from tools.document import Block, Document
from tools.hygiene import junk_reason, reference_density
from tools.lexical import document_vector, query_vector, term_id, tokens

PROSE = ("Recent research has explored AI-powered reading support (Lo et al., 2023; Chang et al., "
         "2023) and tools for extracting knowledge from visually rich documents (Shen et al., "
         "2022), which motivates a toolkit that unifies these models in one representation.")
VANCOUVER = ("7. Meissner MH, Chandler WL, Elliott JS: Venous thromboembolism in trauma: a local "
             "manifestation of systemic hypercoagulability? J Trauma 2003, 54:224-31. 8. Rogers "
             "FB, Cipolle MD, Velmahos G: Practice management guidelines. J Trauma 2002, "
             "53:142-64.")
APA = ("Nevado, M. T.; Gallardo, D.; Sánchez, M. I. La administración local y su implicación en "
       "la creación de una cultura socialmente responsable. Revista de Estudios 2016, 12(3): 1-20.")
WIKI = ("^ Frankel, Theodore (2004). The Geometry of Physics: an introduction. Cambridge "
        "University Press. p. 652. ISBN 0-521-53927-7.\n^ ab Horn, Roger A.; Johnson, Charles R. "
        "(2013). Matrix Analysis, second edition. Cambridge University Press. ISBN 9780521839402.")


def test_junk_is_recognised_by_general_signals() -> None:
    assert junk_reason("E", "paragraph") == "too short"
    assert junk_reason("See Figure 6.", "paragraph") == "too short"
    assert junk_reason("https://doi.org/10.1371/journal.pone.0197919.g003", "paragraph")
    assert junk_reason("Table 6. Evaluation process.", "caption") == "too short"
    assert junk_reason("Test to assess ANOVA assumptions: Shapiro–Wilk W 0.978 0.972 0.923 "
                       "0.906 0.966 0.965 0.982 0.821 "
                       "Levene F 5.651 4.360 10.03 12.24 19.78 4.479 0.603 13.54 p <0.001 "
                       "<0.001 0.024 0.088", "paragraph") == "mostly numbers and symbols"
    for refs in (VANCOUVER, APA, WIKI):
        assert junk_reason(refs, "paragraph") == "reference list", refs
    assert junk_reason("Vector space\nHermitian form\nSelf-adjoint operator\nUnitary matrix",
                       "list") == "navigation"


def test_content_is_kept() -> None:
    assert reference_density(PROSE) < 5  # well-cited prose is not a reference list
    assert junk_reason(PROSE, "paragraph") is None
    assert junk_reason("Figure 1 Structure of compound 33RE", "caption") is None
    assert junk_reason("No competing interests.", "paragraph", heading_bound=True) is None
    assert junk_reason("emcc -O3 add.c -o add.wasm", "code") is None
    assert junk_reason("The sum of any two Hermitian matrices is Hermitian.", "list") is None


def test_chunk_document_drops_junk_and_merges_short_list_items() -> None:
    doc = Document(kind="paper", title="T", blocks=[
        Block("Results", kind="heading"),
        Block(PROSE, page=1, heading_path=["Results"]),
        Block("E", page=1, heading_path=["Results"]),
        Block("Proof:", kind="list", page=1, heading_path=["Properties"]),
        Block("The sum of any two Hermitian matrices is Hermitian.", kind="list", page=1,
              heading_path=["Properties"]),
        Block(VANCOUVER, page=2, heading_path=["Results"]),
    ])
    texts = [d.text for d in chunk_document(doc)]
    assert texts == [PROSE, "Proof:\n\nThe sum of any two Hermitian matrices is Hermitian."]
    assert [d.seq for d in chunk_document(doc)] == [0, 1]
    tiny = Document(kind="markdown", title="Note", blocks=[Block("Hi there.")])
    assert [d.text for d in chunk_document(tiny)] == ["Hi there."]  # a tiny note is content


def test_tokens_keep_acronyms_numbers_and_identifiers() -> None:
    got = tokens("VILA and S2ORC (2023) reached 81.1M papers, 0.994 cosine; models modelling")
    assert {"vila", "s2orc", "2023", "81.1", "0.994", "and"} <= set(got)
    assert "model" in got  # plural and -ing forms meet their stem
    assert "m" not in got  # single letters are dropped
    idx, values = document_vector("VILA VILA groups tokens")
    assert idx == sorted(idx) and len(idx) == 3
    assert values[idx.index(term_id("vila"))] > values[idx.index(term_id("group"))]
    assert query_vector("VILA vila") == ([term_id("vila")], [1.0])
