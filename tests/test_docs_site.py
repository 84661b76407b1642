"""The documentation site's configuration (mkdocs.yml), checked without building the site."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent


class _Loader(yaml.SafeLoader):
    """A safe loader that reads tags it does not know (``!!python/name:...``, ``!relative``) as plain data."""


def _untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("", _untagged)


def _config(root: Path) -> dict[str, Any]:
    return yaml.load((root / "mkdocs.yml").read_text(), Loader=_Loader)


def _nav_pages(nav: Any) -> list[str]:
    """The page paths in a nav: entries are a path, ``{title: path}`` or ``{title: [entries]}``."""
    if isinstance(nav, str):
        return [] if re.match(r"^[a-z]+://", nav) else [nav]
    if isinstance(nav, list):
        return [page for entry in nav for page in _nav_pages(entry)]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return []


def _docs(root: Path) -> tuple[set[str], list[str]]:
    """The Markdown files under the docs folder (relative to it), and the pages in the nav."""
    config = _config(root)
    docs = root / config.get("docs_dir", "docs")
    files = {path.relative_to(docs).as_posix() for path in docs.rglob("*.md")}
    return files, _nav_pages(config["nav"])


def test_every_docs_page_is_in_the_nav():
    files, nav = _docs(ROOT)
    assert files, "no pages found under docs/"
    assert sorted(files - set(nav)) == [], "pages missing from mkdocs.yml's nav"


def test_every_nav_entry_is_a_docs_page_listed_once():
    files, nav = _docs(ROOT)
    assert sorted(set(nav) - files) == [], "nav entries with no file under docs/"
    assert sorted({page for page in nav if nav.count(page) > 1}) == []


def test_a_page_left_out_of_the_nav_is_found(tmp_path):
    (tmp_path / "docs" / "reference").mkdir(parents=True)
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: X\n"
        "markdown_extensions:\n"
        "  - toc:\n"
        "      slugify: !!python/object/apply:pymdownx.slugs.slugify {kwds: {case: lower}}\n"
        "  - pymdownx.emoji:\n"
        "      emoji_index: !!python/name:material.extensions.emoji.twemoji\n"
        "  - pymdownx.snippets:\n"
        "      base_path: [!relative $config_dir]\n"
        "nav:\n"
        "  - Home: index.md\n"
        "  - Reference:\n"
        "      - reference/a.md\n"
        "  - https://example.com/\n"
    )
    for page in ("index.md", "reference/a.md", "reference/b.md"):
        (tmp_path / "docs" / page).write_text("# page\n")
    files, nav = _docs(tmp_path)
    assert nav == ["index.md", "reference/a.md"]
    assert files - set(nav) == {"reference/b.md"}


def test_the_build_fails_on_pages_left_out_and_broken_links():
    # Under --strict a warning fails the build; MkDocs only reports these as warnings when told to.
    validation = _config(ROOT)["validation"]
    assert validation["nav"]["omitted_files"] == "warn"
    assert validation["nav"]["not_found"] == "warn"
    assert all(validation["links"][check] == "warn" for check in ("not_found", "anchors", "unrecognized_links"))
    hatch = (ROOT / "hatch.toml").read_text()
    assert re.search(r'^build = "mkdocs build --strict\b', hatch, re.M)
    assert "hatch run docs:build" in (ROOT / ".ci" / "run").read_text()


def test_the_site_folder_is_git_ignored():
    site = _config(ROOT).get("site_dir", "site")
    assert f"{site}/" in (ROOT / ".gitignore").read_text().splitlines()


def test_pages_made_of_snippets_include_files_that_exist():
    for page in (ROOT / "docs").rglob("*.md"):
        for included in re.findall(r'^-{1,}8<-{1,}\s+"([^"]+)"', page.read_text(), re.M):
            assert (ROOT / included).is_file(), (page, included)
