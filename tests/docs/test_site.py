"""The docs site: every distribution has an API reference page, and the sidebar's first entry is never covered."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DISTS = sorted(p.parent.name for p in ROOT.glob("spine_*/setup.cfg"))


def config() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text())  # type: ignore[no-any-return]


def reference_pages() -> dict[str, str]:
    """The API reference section of mkdocs.yml's nav: title -> page."""
    nav = config()["nav"]
    [section] = [item["API reference"] for item in nav if isinstance(item, dict) and "API reference" in item]
    return {title: page for entry in section for title, page in entry.items()}


@pytest.mark.parametrize("package", DISTS)
def test_each_distribution_has_a_reference_page(package: str) -> None:
    """The package has a page under docs/reference/ that renders it (``::: package``) and is in the nav."""
    page = reference_pages().get(package)
    assert page is not None, f"mkdocs.yml's API reference lists no page for {package}"
    assert f"::: {package}\n" in (ROOT / "docs" / page).read_text()


def test_the_sidebar_title_does_not_cover_its_first_entry() -> None:
    """On wide screens the primary sidebar's sticky title, which covered the first entry of a scrolled
    sidebar, is not shown (the header names the site); checked by rendering in Chromium, kept by this test."""
    assert "stylesheets/extra.css" in config()["extra_css"]
    css = (ROOT / "docs" / "stylesheets" / "extra.css").read_text()
    rule = re.search(r"@media screen and \(min-width: 76\.25em\) \{\s*\.md-nav--primary > \.md-nav__title \{"
                     r"\s*display: none;", css)
    assert rule is not None, css
