"""Fixtures for the domain-XML tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import CORPUS, read_corpus


@pytest.fixture(params=CORPUS, ids=[p.name for p in CORPUS])
def corpus_file(request: pytest.FixtureRequest) -> Path:
    return request.param


@pytest.fixture
def corpus_text(corpus_file: Path) -> str:
    return read_corpus(corpus_file)
