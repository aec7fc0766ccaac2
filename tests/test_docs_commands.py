"""The docs call the project's environment one way: `.venv/bin/python ...` (never bare `python`).

A newcomer who pastes `python run.py models` gets `No module named 'zenml'`: the README and
docs/*.md must say `.venv/bin/python run.py`, `.venv/bin/python -m ...`, `.venv/bin/bentoml`,
`.venv/bin/zenml`. (The container docs' `bentoml serve /home/bentoml/bento` runs inside the
image, where bentoml is on PATH; lines that say so are allowed by their context.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.quickstart import REPO_ROOT

DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
BARE = re.compile(r"(?<![\w/.-])(python3?(?= (run\.py|-m ))|(?<!-m )pytest(?= tests| -)|uv run(?= )|"
                  r"(bentoml|zenml)(?= (serve|build|containerize|login|logout|integration)\b(?!`)))")
#: Commands that run inside the container image, not in a clone.
IN_IMAGE = ("/home/bentoml/bento", "BENTO_TAG --backend buildah")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_use_the_project_environment(doc: Path) -> None:
    bad = [f"{doc.name}:{n}: {line.strip()}"
           for n, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1)
           if BARE.search(line) and not any(marker in line for marker in IN_IMAGE)]
    assert not bad, "call the project's environment as .venv/bin/...:\n" + "\n".join(bad)
