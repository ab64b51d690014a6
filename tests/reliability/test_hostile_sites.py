"""Ingest against sites that attack it (issue 14, findings 5 to 7): fake blogs on 127.0.0.1.

Each attack worked before: a sitemap sending ingest to another local service (and the
assistant then quoting its password), a 3 kB gzip bomb, a sitemap index fanning out n^3.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import ingest.fetch
from assistant.settings import Settings
from ingest.embed import Embedder
from ingest.errors import SourceError
from ingest.fetch import Fetcher
from ingest.run import run_ingest
from ingest.schema import find_collection, open_client
from tests.conftest import REPO, make_settings
from tests.ingest.fake_blog import FakeBlog, Post, serve_blog

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

SECRET = "The admin password is hunter2-correct-horse and the backup key is 7741."


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    empty = tmp_path / "corpus"
    empty.mkdir()
    return make_settings(
        tmp_path / "data", empty, fetch_delay=0.0, fetch_timeout=5.0, allow_private=True
    )


def documents(settings: Settings) -> str:
    collection = find_collection(open_client(settings), settings.collection)
    if collection is None:
        return ""
    return "\n".join(collection.get(include=["documents"])["documents"] or [])


@pytest.fixture
def two_services() -> Iterator[tuple[FakeBlog, FakeBlog]]:
    """The blog, and another local service on another port with a secret page."""
    with serve_blog() as blog, serve_blog(FakeBlog(posts={})) as other:
        other.hidden["secret"] = Post(
            "secret", "Admin", f"## Keys\n\n{SECRET}\n", "2025-01-01", "x"
        )
        yield blog, other


# --- 5. SSRF --------------------------------------------------------------------------


def test_run_a_sitemap_cannot_send_ingest_to_another_port_directly_or_by_redirect(
    two_services: tuple[FakeBlog, FakeBlog], settings: Settings, embedder: Embedder
) -> None:
    blog, other = two_services
    secret = other.post_url("secret")
    blog.extra_urls += [secret, blog.url("/moved/")]
    blog.redirects["/moved/"] = secret
    report = run_ingest(settings, [blog.url("/sitemap.xml")], embedder=embedder)
    assert report.articles == 3  # the blog's own posts
    offsite = f"on another site ({other.base_url}) than the blog ({blog.base_url})"
    assert sorted((s.source, s.reason.split(";")[0]) for s in report.skipped) == sorted(
        [(secret, offsite), (blog.url("/moved/"), offsite)]
    )
    assert other.requests == []
    assert "hunter2" not in documents(settings)


def test_run_private_addresses_are_refused_unless_allowed(
    two_services: tuple[FakeBlog, FakeBlog], settings: Settings, embedder: Embedder
) -> None:
    blog, _ = two_services
    port = blog.base_url.rsplit(":", 1)[1]
    public = settings.model_copy(update={"allow_private": False})
    for url, host in (
        (blog.url("/sitemap.xml"), "127.0.0.1"),
        (f"http://localhost:{port}/sitemap.xml", "localhost"),
    ):
        report = run_ingest(public, [url], embedder=embedder)
        assert report.articles == 0
        [skipped] = report.skipped
        assert skipped.reason.startswith(f"{host} resolves to a private address (")
        assert skipped.reason.endswith("pass --allow-private for your own network")
    assert blog.requests == []


def test_run_a_name_that_resolves_elsewhere_at_connect_time_is_refused_too(
    two_services: tuple[FakeBlog, FakeBlog], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the check before the request saw a public address, the connection
    would go to 127.0.0.1. The connection itself is checked."""
    blog, _ = two_services
    monkeypatch.setattr(ingest.fetch, "private_address_of", lambda host, port: None)
    public = settings.model_copy(update={"allow_private": False, "respect_robots": False})
    with Fetcher(public) as fetcher, pytest.raises(SourceError) as refused:
        fetcher.fetch(blog.post_url("piriformis-syndrome-stretches"))
    assert "resolves to a private address (127.0.0.1)" in refused.value.reason
    assert blog.requests == []


# --- 6. decompression bombs ------------------------------------------------------------


def zeros_gzip(megabytes: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * 1_000_000
    out = [packer.compress(b"<html><body><p>")]
    out += [packer.compress(block) for _ in range(megabytes)]
    return b"".join([*out, packer.flush()])


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    once = zeros_gzip(1000)  # 1 GB of text in about 1 MB
    return {"once": once, "twice": gzip.compress(once, 9)}


def peak_mb_of_fetch(settings: Settings, url: str) -> tuple[float, str]:
    with Fetcher(settings.model_copy(update={"respect_robots": False})) as fetcher:
        tracemalloc.start()
        try:
            fetcher.fetch(url)
            reason = ""
        except SourceError as error:
            reason = error.reason
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return peak, reason


def test_run_stacked_and_single_gzip_bombs_stay_within_the_cap(
    settings: Settings, bombs: dict[str, bytes]
) -> None:
    with serve_blog() as blog:
        html = {"Content-Type": "text/html"}
        blog.raw["/twice/"] = (bombs["twice"], {**html, "Content-Encoding": "gzip, gzip"})
        blog.raw["/once/"] = (bombs["once"], {**html, "Content-Encoding": "gzip"})
        twice = peak_mb_of_fetch(settings, blog.url("/twice/"))
        once = peak_mb_of_fetch(settings, blog.url("/once/"))
    assert len(bombs["twice"]) < 20_000
    assert twice[1] == "stacked content-codings (gzip, gzip); one at most"
    assert twice[0] < 20, f"{twice[0]:.0f} MB held for a {len(bombs['twice'])}-byte body"
    assert once[1] == "response is over the 5 MB limit"
    assert once[0] < 20, f"{once[0]:.0f} MB held for a 5 MB cap"


# --- 7. fan-out ------------------------------------------------------------------------


def test_run_a_sitemap_index_listing_variants_of_itself_is_read_once_each(
    settings: Settings, embedder: Embedder
) -> None:
    with serve_blog() as blog:
        variants = "".join(
            f"<sitemap><loc>{blog.url('/loop-sitemap.xml')}?v={n}</loc></sitemap>" for n in range(8)
        )
        index = (
            '<?xml version="1.0"?><sitemapindex '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{variants}</sitemapindex>'
        )
        blog.raw["/loop-sitemap.xml"] = (index.encode(), {"Content-Type": "application/xml"})
        report = run_ingest(settings, [blog.url("/loop-sitemap.xml")], embedder=embedder)
    assert blog.requests.count("/loop-sitemap.xml") == 9  # itself, then each variant once
    assert report.skipped == []


def test_cli_page_budget_and_allow_private_flags(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(tmp_path / "data"),
        "SUPPLE_CORPUS_DIR": str(tmp_path),
        "SUPPLE_FETCH_DELAY": "0",
    }
    with serve_blog() as blog:
        blog.extra_urls += [blog.post_url(f"missing-{n}") for n in range(40)]
        sitemap = blog.url("/sitemap.xml")
        command = [sys.executable, "-m", "ingest", sitemap, "--json"]
        refused = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        budget = subprocess.run(
            [*command, "--allow-private", "--max-pages", "3"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        bad = subprocess.run(
            [*command, "--max-pages", "-1"], cwd=REPO, env=env, capture_output=True, text=True
        )
    assert refused.returncode == 0, refused.stderr
    [skip] = json.loads(refused.stdout)["skipped"]
    assert skip["reason"].startswith("127.0.0.1 resolves to a private address (127.0.0.1)")
    assert budget.returncode == 0, budget.stderr
    out = json.loads(budget.stdout)
    # robots.txt, the sitemap and one post: 3 requests; the other 42 listed: one line.
    assert out["articles"] == 1
    assert out["skipped"] == [
        {
            "source": sitemap,
            "reason": "42 listed URLs not fetched: the run's budget of 3 fetches is spent; "
            "raise --max-pages",
        }
    ]
    assert budget.stderr.count("skipped") == 1
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: SUPPLE_MAX_PAGES")
