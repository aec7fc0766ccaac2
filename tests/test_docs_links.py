"""Every relative link in README.md and docs/*.md points at a file that exists and, when it
names an ``#anchor``, at a heading of that file.

Why: the README is a front door whose paragraphs link to one page per area; pages move and
headings get renamed, and a dead link is the first thing a newcomer meets. External
(http, mailto) links are not checked: no internet here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~)")
_INLINE_CODE = re.compile(r"`[^`]*`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def _prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (links in code are examples, not links)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces -> '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    text = text.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (duplicates get GitHub's -1, -2 suffixes)."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in _prose_lines(path.read_text(encoding="utf-8")):
        match = _HEADING.match(line)
        if not match:
            continue
        slug = github_slug(match.group(2))
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        out.add(slug if count == 0 else f"{slug}-{count}")
    return out


def broken_links(path: Path) -> list[str]:
    """Each relative link of ``path`` that does not resolve, as 'file:line: target (why)'."""
    problems = []
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if fenced:
            continue
        for target in _LINK.findall(_INLINE_CODE.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.name}:{number}"
            if not resolved.exists():
                problems.append(f"{where}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{where}: {target} (no heading with anchor #{anchor})")
    return problems


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path: Path) -> None:
    assert broken_links(path) == []


def test_readme_links_every_area_page() -> None:
    """The front door reaches every page of docs/ (an unlinked page is a lost page)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = {Path(t.partition("#")[0]).name for t in _LINK.findall(readme)}
    pages = {p.name for p in DOC_FILES if p.parent.name == "docs"}
    unreachable = pages - linked
    # a page may be reached through another page instead of the README
    for page in sorted(unreachable.copy()):
        if any(f"({page}" in p.read_text(encoding="utf-8") for p in DOC_FILES if p.name != page):
            unreachable.discard(page)
    assert not unreachable, f"docs pages no other page links to: {sorted(unreachable)}"


def test_readme_is_a_front_door() -> None:
    """README stays short (issue 12): details belong in docs/<area>.md."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 200, f"README.md has {lines} lines; move details into docs/"


def test_the_checker_finds_a_dead_file_and_a_dead_anchor(tmp_path: Path) -> None:
    """The check itself can fail: a missing page and a missing heading are both reported."""
    (tmp_path / "other.md").write_text("# A title\n\n## The service (`service.py`, no ZenML)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#the-service-servicepy-no-zenml) [ok2](#here)\n"
        "# Here\n"
        "[gone](missing.md) [bad](other.md#nope) `[code](nowhere.md)`\n"
        "```\n[in a fence](nowhere.md)\n```\n"
    )
    problems = broken_links(page)
    assert len(problems) == 2, problems
    assert "missing.md (no such file)" in problems[0]
    assert "other.md#nope (no heading with anchor #nope)" in problems[1]
