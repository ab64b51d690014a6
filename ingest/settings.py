"""Settings shared by ingest and the assistant: where the corpus and the index live.

Only entry points instantiate these (that is when the environment and ``.env`` are read);
everything below them is handed the object.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class StoreSettings(BaseSettings):
    """Where articles come from and where the index is kept."""

    model_config = SettingsConfigDict(
        env_prefix="SUPPLE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    corpus_dir: Path = Field(Path("corpus"), description="Folder of articles to index.")
    data_dir: Path = Field(
        Path("data"), description="Where the index, the SQLite file and logs live."
    )
    chroma_host: str | None = Field(
        None, description="Chroma server host; unset means the embedded store in data_dir."
    )
    chroma_port: int = Field(8000, description="Chroma server port (with chroma_host).")
    collection: str = Field("supple", description="Name of the Chroma collection.")
    fetch_timeout: float = Field(
        15.0, gt=0, description="Seconds to wait for a web server when fetching a URL."
    )
    fetch_max_bytes: int = Field(
        5_000_000, gt=0, description="Largest file or web response read, in bytes."
    )
    fetch_delay: float = Field(
        0.5, ge=0, description="Polite pause between two requests to the same host, seconds."
    )
    fetch_user_agent: str = Field(
        "SuppleIngest/0.1 (+https://github.com/supple)",
        description="User-Agent sent when fetching pages.",
    )
    follow_offsite: bool = Field(
        False,
        description="Fetch pages a sitemap or feed lists on other hosts than the blog's own.",
    )
    allow_private: bool = Field(
        False,
        description="Fetch from loopback, private and link-local addresses (your own network); "
        "off, a URL or redirect resolving to one is skipped. --allow-private.",
    )
    max_pages: int = Field(
        2000,
        ge=0,
        description="Most HTTP requests one ingest run makes (pages, sitemaps, feeds, "
        "redirects); 0 = no cap. --max-pages.",
    )
    respect_robots: bool = Field(
        True,
        description="Obey each site's robots.txt (RFC 9309: its Disallow rules for our user "
        "agent, and a Crawl-delay up to 30 s); false, or --ignore-robots, for your own blog.",
    )
    embed_group: int = Field(
        1024,
        ge=1,
        description="Chunks ingest embeds per call: larger runs nearer the raw encode rate "
        "(docs/benchmarks.md); a killed run re-embeds at most this many.",
    )
    ingest_lock_wait: float = Field(
        0.0,
        ge=0,
        description="Seconds an ingest waits for another one on the same data_dir to end "
        "before refusing.",
    )

    @property
    def store_kind(self) -> str:
        return "server" if self.chroma_host else "embedded"


def settings_error_line(error: ValidationError) -> str:
    """A bad setting from the environment, said in one line naming the variable."""
    first = error.errors()[0]
    name = "SUPPLE_" + "_".join(str(part) for part in first["loc"]).upper()
    return f"{name}: {first['msg']}"


def exit_line(error: Exception) -> int:
    """An entry point's answer to bad input (a setting, or a ``SuppleError``): one line on
    stderr naming what is wrong, and exit status 2."""
    line = settings_error_line(error) if isinstance(error, ValidationError) else str(error)
    print(f"error: {line}", file=sys.stderr)
    return 2
