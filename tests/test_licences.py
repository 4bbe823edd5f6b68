"""tools.licences: the table, detection on real paper text and snippets, and combining."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest

from tools.licences import LICENCES, combine, detect_licence, get_licence


def _page1(path: Path) -> str:
    pdf = pypdfium2.PdfDocument(path)
    try:
        return pdf[0].get_textpage().get_text_range()
    finally:
        pdf.close()


@pytest.mark.parametrize("name,expected,wording", [
    ("vespa_webb2017_peerjcs.pdf", "CC-BY-4.0", "Distributed under Creative Commons CC-BY 4.0"),
    ("ace_inhibitors_douglas2014_clinsci.pdf", "CC-BY-3.0",
     "Creative Commons Attribution Licence (CC-BY) (http://creativecommons.org/licenses/by/3.0/)"),
    ("s2orc_lo2020_acl.pdf", None, None),
    ("papermage_lo2023_emnlp_demo.pdf", None, None),
    ("longeval_krishna2023_eacl.pdf", None, None),
])
def test_papers(testdata: Path, name: str, expected: str | None, wording: str | None) -> None:
    found = detect_licence(_page1(testdata / "papers" / name))
    if expected is None:
        assert found is None  # the ACL papers state nothing on the page: never guess
        return
    assert found is not None
    assert found[0] == expected
    assert wording is not None and wording in found[1]


@pytest.mark.parametrize("text,expected", [
    ("This article is licensed under a Creative Commons Attribution 4.0 International License.",
     "CC-BY-4.0"),
    ("© The Authors. CC BY 4.0", "CC-BY-4.0"),
    ("Released as CC-BY-NC-SA 4.0.", "CC-BY-NC-SA-4.0"),
    ("see https://creativecommons.org/licenses/by-sa/3.0/ for details", "CC-BY-SA-3.0"),
    ("This is an open access article distributed under the terms of the Creative Commons "
     "Attribution License (CC-BY), which permits unrestricted use, distribution, and "
     "reproduction in any medium, provided the original author and source are credited, "
     "version 3.0.", "CC-BY-3.0"),
    ("This work is in the public domain.", "PD"),
    ("All LibriVox recordings are in the public domain.", "PD"),
    ("Creative Commons Attribution-NonCommercial-NoDerivatives 4.0 International",
     "CC-BY-NC-ND-4.0"),
    ("licensed CC BY-NC 3.0", "CC-BY-NC-3.0"),
    ("Text is available under the Creative Commons Attribution-ShareAlike License", "CC-BY-SA"),
    ("Available under cc-by-nd.", "CC-BY-ND"),
    ("CC BY 2017 Webb et al.", "CC-BY"),  # a year is not a version
    ("Dedicated under CC0 1.0 Universal.", "CC0-1.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0-1.0"),
    ("Licensed under the Apache License, Version 2.0", "Apache-2.0"),
    ("Released under the MIT License.", "MIT"),
    ("© 2020 Elsevier Ltd. All rights reserved.", "all-rights-reserved"),
    ("© 2021 The Authors. All rights reserved. Licensed under CC BY 4.0", "CC-BY-4.0"),
])
def test_statements(text: str, expected: str) -> None:
    found = detect_licence(text)
    assert found is not None and found[0] == expected
    assert found[1]
    assert expected in LICENCES


@pytest.mark.parametrize("text", [
    "", "The quick brown fox.", "We used public domain tools to parse data.",
    "Accurate CC by design.", "Copyright 2019 Someone.",
])
def test_nothing_stated(text: str) -> None:
    assert detect_licence(text) is None


def test_table() -> None:
    for lid in ("CC0-1.0", "CC-BY-4.0", "CC-BY-3.0", "CC-BY-2.0", "CC-BY-SA-4.0", "CC-BY-SA-3.0",
                "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0",
                "CC-BY-NC-3.0", "CC-BY-NC-SA-3.0", "CC-BY-ND-3.0", "CC-BY-NC-ND-3.0", "CC-BY",
                "CC-BY-SA", "PD", "MIT", "Apache-2.0", "all-rights-reserved", "unknown"):
        assert LICENCES[lid].id == lid
    nc_sa = LICENCES["CC-BY-NC-SA-4.0"]
    assert (nc_sa.commercial_use_allowed, nc_sa.attribution_required,
            nc_sa.share_alike_required, nc_sa.derivatives_allowed) == (False, True, True, True)
    assert nc_sa.url == "https://creativecommons.org/licenses/by-nc-sa/4.0/"
    assert LICENCES["CC-BY-ND-4.0"].derivatives_allowed is False
    unknown = LICENCES["unknown"]
    assert {unknown.commercial_use_allowed, unknown.attribution_required,
            unknown.share_alike_required, unknown.derivatives_allowed} == {None}
    assert get_licence("cc by-sa 3.0").id == "CC-BY-SA-3.0"
    assert get_licence("public domain").id == "PD"
    assert get_licence(None).id == "unknown"
    assert get_licence("some proprietary terms").id == "unknown"


def test_combine_open_sources() -> None:
    v = combine(["CC-BY-4.0", "CC0-1.0", "PD"])
    assert v.commercial_use_allowed is True
    assert v.attribution_required is True
    assert v.share_alike_required is False
    assert v.derivatives_allowed is True
    assert v.blocking_commercial == [] and v.share_alike_conflict == []


def test_combine_all_free_without_attribution() -> None:
    v = combine(["PD", "CC0-1.0"])
    assert v.attribution_required is False and v.commercial_use_allowed is True


def test_combine_non_commercial_blocks() -> None:
    v = combine(["CC-BY-4.0", "CC-BY-NC-4.0", "all-rights-reserved"])
    assert v.commercial_use_allowed is False
    assert v.blocking_commercial == [1, 2]
    assert v.derivatives_allowed is False  # all rights reserved allows no derivatives


def test_combine_unknown_stays_unknown() -> None:
    v = combine(["CC-BY-4.0", None, "whatever"])
    assert v.commercial_use_allowed is None
    assert v.derivatives_allowed is None
    assert v.share_alike_required is None
    assert v.attribution_required is True
    assert v.unknown_sources == [1, 2]
    assert v.licences == ["CC-BY-4.0", "unknown", "unknown"]
    # a source that forbids still decides, whatever the unknown one would allow
    assert combine([None, "CC-BY-NC-4.0"]).commercial_use_allowed is False


def test_combine_share_alike() -> None:
    v = combine(["CC-BY-SA-4.0", "CC-BY-4.0"])
    assert v.share_alike_required is True and v.share_alike_conflict == []
    v = combine(["CC-BY-SA-3.0", "CC-BY-SA-4.0", "CC-BY-NC-SA-4.0"])
    assert v.share_alike_conflict == ["CC-BY-NC-SA-4.0", "CC-BY-SA-3.0", "CC-BY-SA-4.0"]
    assert any("share-alike" in n for n in v.notes)
    assert v.blocking_commercial == [2]


def test_combine_nothing() -> None:
    v = combine([])
    assert v.commercial_use_allowed is None and v.licences == []
