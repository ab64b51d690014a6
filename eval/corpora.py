"""Which blog an eval command runs on: the app's corpus, or another folder of articles
(``--corpus DIR`` or a set's ``corpus:``) indexed in a data folder of its own, so running
the fixture blog's sets never touches the index the app serves."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from assistant.settings import Settings
from ingest.embed import Embedder


def for_corpus(settings: Settings, corpus: Path | None) -> Settings:
    """``settings`` pointed at ``corpus`` (with its own index under the data folder)."""
    if corpus is None:
        return settings
    corpus = corpus.resolve()
    if corpus == Path(settings.corpus_dir).resolve():
        return settings
    key = hashlib.sha256(str(corpus).encode()).hexdigest()[:10]
    data_dir = Path(settings.data_dir) / "corpora" / f"{corpus.name}-{key}"
    return settings.model_copy(update={"corpus_dir": corpus, "data_dir": data_dir})


def ensure_index(settings: Settings, embedder: Embedder) -> None:
    """Build or refresh the index of the corpus (and its glossary): an up-to-date index
    costs a fraction of a second and embeds nothing."""
    from ingest.run import run_ingest

    report = run_ingest(settings, embedder=embedder)
    if report.embedded or report.deleted:
        print(
            f"indexed {settings.corpus_dir}: {report.articles} articles, {report.chunks} "
            f"chunks ({report.embedded} embedded, {report.deleted} removed)",
            file=sys.stderr,
        )
    for skipped in report.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}", file=sys.stderr)
