"""MkDocs hooks of Belay's site (``hooks:`` in mkdocs.yml): links written for GitHub work in the site too.

A page can include a file from outside docs/ with a snippet (docs/index.md is ``--8<-- "README.md"``).
That file's links are written relative to its own folder, as GitHub reads them: README.md's
``docs/cli.md`` is ``cli.md`` from docs/index.md. Before MkDocs resolves the links of such a page, a
relative link that names no documentation file from the page is tried from the folder of each file the
page includes, and pointed at

- the documentation page it names there (``docs/cli.md`` becomes ``cli.md``), or
- the page that includes the repository file it names there (``CONTRIBUTING.md`` becomes
  ``contributing.md``, the page that is ``--8<-- "CONTRIBUTING.md"``).

Any other link is left as written, so ``mkdocs build --strict`` still reports it.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor

SNIPPET = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"([^"\n]+)"[ \t]*$', re.MULTILINE)
"""A pymdownx.snippets line that includes one file: ``--8<-- "README.md"``."""


class IncludedLinks(Treeprocessor):
    """Points the links of included files at the site's pages (see the module's docstring)."""

    def __init__(self, md: Markdown, hook: IncludedLinksExtension) -> None:
        super().__init__(md)
        self.hook = hook

    def run(self, root: Element) -> None:
        for element in root.iter():
            attribute = {"a": "href", "img": "src"}.get(element.tag)
            target = element.get(attribute) if attribute else None
            if attribute and target:
                element.set(attribute, self.hook.rewrite(target))


class IncludedLinksExtension(Extension):
    """Registers `IncludedLinks`, which reads what this hook module learnt of the pages being built."""

    def __init__(self, root: Path, docs_dir: Path) -> None:
        super().__init__()
        self.root = root
        self.docs = docs_dir.relative_to(root).as_posix()
        self.files: set[str] = set()
        """Source paths of the site's files (pages, images, ...), relative to docs/."""
        self.includes: dict[str, list[str]] = {}
        """The repository files each page includes (relative to the repository root), by page."""
        self.page: Optional[str] = None
        """The page being rendered."""

    def extendMarkdown(self, md: Markdown) -> None:
        # After the inline patterns have made the links (20), before MkDocs resolves them (relpath, 0).
        md.treeprocessors.register(IncludedLinks(md, self), "belay_included_links", 3)

    def rewrite(self, target: str) -> str:
        """The link to use in the page being rendered for ``target``, as written in the Markdown."""
        parts = urlsplit(target)
        if self.page is None or parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            return target
        here = posixpath.dirname(self.page)
        if posixpath.normpath(posixpath.join(here, parts.path)) in self.files:
            return target
        for included in self.includes.get(self.page, []):
            named = posixpath.normpath(posixpath.join(posixpath.dirname(included), parts.path))
            page = self.page_for(named)
            if page is not None:
                fragment = f"#{parts.fragment}" if parts.fragment else ""
                return posixpath.relpath(page, here or ".") + fragment
        return target

    def page_for(self, path: str) -> Optional[str]:
        """The site's file for the repository file ``path``: itself under docs/, or a page including it."""
        prefix = f"{self.docs}/"
        if path.startswith(prefix) and path[len(prefix) :] in self.files:
            return path[len(prefix) :]
        return next((page for page, files in self.includes.items() if path in files), None)


_extension: Optional[IncludedLinksExtension] = None


def on_config(config: Any) -> Any:
    """Add the link rewriting to the site's Markdown extensions."""
    global _extension
    root = Path(config.config_file_path).resolve().parent
    _extension = IncludedLinksExtension(root, Path(config.docs_dir).resolve())
    config.markdown_extensions.append(_extension)
    return config


def on_files(files: Any, config: Any) -> Any:
    """Learn the site's files, and which repository files each page includes with a snippet."""
    assert _extension is not None
    _extension.files = {file.src_uri for file in files}
    _extension.includes = {file.src_uri: SNIPPET.findall(file.content_string) for file in files.documentation_pages()}
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Note the page about to be rendered."""
    assert _extension is not None
    _extension.page = page.file.src_uri
    return markdown
