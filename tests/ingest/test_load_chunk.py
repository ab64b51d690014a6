"""Loading Markdown articles and chunking them along headings and list items."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.chunk import chunk_article
from ingest.errors import SourceError
from ingest.load import load_markdown, load_paths
from tests.conftest import ARTICLE


def test_corpus_article_front_matter() -> None:
    article = load_markdown(ARTICLE)
    assert article.slug == "glute-hip-weakness-low-back-pain"
    assert article.title == "Glute and Hip Weakness: A Major Cause of Low Back Pain"
    assert article.author == "Nicole"
    assert article.date == "2025-03-20"
    assert "fascia" in article.tags


def test_corpus_article_has_no_page_chrome() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    for chrome in ("Consent Preferences", "mailing list", "SPAM", "Stay connected"):
        assert chrome not in text
    assert "## Breaking the Cycle: Strengthening & Myofascial Release" in text
    assert "   - Glute Bridges, Hip Thrusts, Clamshells, Deadlifts" in text


def test_chunks_know_their_section_path() -> None:
    chunks = chunk_article(load_markdown(ARTICLE))
    by_text = {c.text.splitlines()[0]: c for c in chunks}
    exercises = by_text[
        "Glute Bridges, Hip Thrusts, Clamshells, Deadlifts to strengthen the gluteus maximus"
    ]
    assert exercises.section == (
        "Breaking the Cycle: Strengthening & Myofascial Release > Strengthening Weak Muscles"
    )
    assert "Monster Walks, Side-Lying Hip Abduction for deep hip rotators" in exercises.text
    assert all(c.article == "glute-hip-weakness-low-back-pain" for c in chunks)
    sections = {c.section.split(" > ")[0] for c in chunks}
    assert {
        "Weak Gluteus Maximus, Hip Rotator Muscles, and Low Back Pain: The Connection",
        "Mechanism: How Weak Glutes and Hip Rotators Cause Low Back Pain",
        "Role of Fascial Adhesions in Limiting Mobility & Increasing Pain",
        "Breaking the Cycle: Strengthening & Myofascial Release",
    } <= sections


def test_every_sentence_of_the_article_is_in_some_chunk() -> None:
    article = load_markdown(ARTICLE)
    joined = "\n".join(c.text for c in chunk_article(article))
    for sentence in [
        "Fascia is a connective tissue that surrounds and supports muscles.",
        "Core activation (planks, dead bugs) to stabilize the spine",
        "Tight fascia can compress nerves (such as the sciatic nerve) and restrict blood flow",
        "Stay supple!",
    ]:
        assert sentence in joined


def test_chunk_ids_are_stable_and_content_addressed(tmp_path: Path) -> None:
    first = chunk_article(load_markdown(ARTICLE))
    assert [c.id for c in first] == [c.id for c in chunk_article(load_markdown(ARTICLE))]
    assert len({c.id for c in first}) == len(first)
    edited = tmp_path / ARTICLE.name
    edited.write_text(
        ARTICLE.read_text(encoding="utf-8").replace("Stay supple!", "Stay supple, friends!"),
        encoding="utf-8",
    )
    second = chunk_article(load_markdown(edited))
    changed = {c.id for c in second} - {c.id for c in first}
    assert len(changed) == 1  # only the edited passage gets a new id


def test_broken_front_matter_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.md"
    bad.write_text("---\ntitle: [unclosed\n---\nSome text.\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        load_markdown(bad)
    assert str(bad) in str(info.value)
    assert "front matter" in str(info.value)


def test_non_utf8_file_names_the_file_and_byte(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.md"
    bad.write_bytes("---\ntitle: Caf\xe9\n---\nText caf\xe9.\n".encode("latin-1"))
    with pytest.raises(SourceError) as info:
        load_markdown(bad)
    assert str(bad) in str(info.value)
    assert "not UTF-8" in str(info.value)


def test_a_bad_file_is_skipped_and_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("---\ntitle: Good\n---\nGood text.\n", encoding="utf-8")
    (tmp_path / "bad.md").write_bytes(b"\xff\xfe\x00\x01binary")
    loaded = load_paths([tmp_path])
    assert [a.slug for a in loaded.articles] == ["good"]
    assert len(loaded.skipped) == 1
    assert loaded.skipped[0].source.endswith("bad.md")
