"""Every distribution has an API reference page in the docs site's navigation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[2]
DISTS = sorted(p.parent.name for p in ROOT.glob("spine_*/setup.cfg"))


def reference_pages() -> dict[str, str]:
    """The API reference section of mkdocs.yml's nav: title -> page."""
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    [section] = [item["API reference"] for item in config["nav"] if isinstance(item, dict) and "API reference" in item]
    return {title: page for entry in section for title, page in entry.items()}


@pytest.mark.parametrize("package", DISTS)
def test_each_distribution_has_a_reference_page(package: str) -> None:
    """The package has a page under docs/reference/ that renders it (``::: package``) and is in the nav."""
    page = reference_pages().get(package)
    assert page is not None, f"mkdocs.yml's API reference lists no page for {package}"
    assert f"::: {package}\n" in (ROOT / "docs" / page).read_text()
