"""The author's glossary: readers' words for the articles' words, beside the articles.

``corpus/glossary.yaml`` maps what readers type to what the author writes::

    butt: [glutes, gluteus maximus]
    quads: quadriceps

Ingest checks it and stores it with the index (collection metadata), so every reader of
the index (the app, a second machine on a Chroma server) searches with the same glossary.
An entry only *adds* the author's words to BM25's query; it never rewrites the reader's
words for the dense query, the answer or a language model (assistant/retrieve.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ingest.errors import SourceError
from ingest.schema import glossary_from_json as loads  # noqa: F401  (the stored form)

FILE_NAME = "glossary.yaml"
Glossary = dict[str, list[str]]


def parse_glossary(text: str, source: str = FILE_NAME) -> Glossary:
    """The glossary in ``text``; a ``SourceError`` naming the entry when it is malformed."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SourceError(source, f"not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SourceError(source, "must map readers' words to the articles' words")
    out: Glossary = {}
    for key, value in data.items():
        terms = [value] if isinstance(value, str) else value
        if (
            not isinstance(key, str)
            or not key.strip()
            or not isinstance(terms, list)
            or not terms
            or not all(isinstance(t, str) and t.strip() for t in terms)
        ):
            raise SourceError(
                source, f"entry '{key}' must be a word or phrase mapped to a word or a list"
            )
        out[key.strip().lower()] = [t.strip().lower() for t in terms]
    return out


def read_glossary(corpus_dir: Path) -> Glossary | None:
    """The corpus folder's glossary, or None when it has none."""
    path = corpus_dir / FILE_NAME
    if not path.is_file():
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(str(path), f"cannot be read ({exc.__class__.__name__})") from None
    return parse_glossary(text, str(path))


def dumps(glossary: Glossary) -> str:
    return json.dumps(glossary, sort_keys=True, ensure_ascii=False)
