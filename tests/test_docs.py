"""The documentation is self-contained: every path README.md and docs/ name lies inside the
repository and exists, so that a fresh clone reads whole; docs/taxonomy.md stays in step with
the shared taxonomy it copies, where a copy of that sits beside the checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# [text](target) and <img src="target">, then `../path` or `/abs/path` written as code.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|src=\"([^\"]+)\"")
CODE_PATH = re.compile(r"`((?:\.\./|/work/|/home/|/tmp/)[^`\s]*)`")


def _targets(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    found = [a or b for a, b in LINK.findall(text)]
    return found + CODE_PATH.findall(text)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_a_document_names_is_inside_the_repository_and_exists(doc: Path) -> None:
    outside, missing = [], []
    for target in _targets(doc):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a URL (http:, mailto:) or an anchor on the same page
        if target.startswith("/"):
            outside.append(target)
            continue
        resolved = (doc.parent / target.split("#", 1)[0]).resolve()
        if not resolved.is_relative_to(ROOT.resolve()):
            outside.append(target)
        elif not resolved.exists():
            missing.append(target)
    assert outside == [], f"{doc.name} points out of the repository"
    assert missing == [], f"{doc.name} links to files that do not exist"


def test_the_design_and_the_taxonomy_are_in_the_docs() -> None:
    for name in ("design.md", "taxonomy.md"):
        assert (ROOT / "docs" / name).stat().st_size > 1000
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/design.md)" in readme and "(docs/taxonomy.md)" in readme


def test_the_taxonomy_is_in_step_with_the_shared_one_it_copies() -> None:
    shared = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), None)
    if shared is None or not (shared / "taxonomy.md").exists():
        pytest.skip("no shared taxonomy beside this checkout")
    assert (ROOT / "docs" / "taxonomy.md").read_text(encoding="utf-8") == (shared / "taxonomy.md").read_text(
        encoding="utf-8"
    )
