"""python -m ingest [PATH_OR_URL ...] [--rebuild] [--json] | --status [--json]"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import ValidationError

from ingest.errors import SuppleError
from ingest.fetch import is_url
from ingest.settings import StoreSettings, exit_line


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index the corpus folder (or the given files, folders, page URLs, sitemap, "
        "RSS/Atom feed or WordPress /wp-json/wp/v2/posts URLs) into the store. "
        "Re-running on unchanged input embeds nothing.",
    )
    p.add_argument(
        "sources",
        nargs="*",
        metavar="PATH_OR_URL",
        help="files (.md, .txt, .html), folders, or http(s) URLs of pages, sitemaps, feeds, "
        "or a WordPress site's /wp-json/wp/v2/posts",
    )
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--status", action="store_true", help="say what the index holds")
    p.add_argument(
        "--follow-offsite",
        action="store_true",
        help="also fetch pages a sitemap or feed lists on other hosts than its own",
    )
    p.add_argument(
        "--ignore-robots",
        action="store_true",
        help="fetch pages the site's robots.txt disallows (for your own blog)",
    )
    p.add_argument(
        "--allow-private",
        action="store_true",
        help="fetch from loopback, private and link-local addresses (a blog on your own network)",
    )
    p.add_argument(
        "--max-pages",
        type=int,
        metavar="N",
        help="make at most N requests this run (pages, sitemaps, feeds, redirects; "
        "default 2000, 0 = no cap)",
    )
    p.add_argument(
        "--wait",
        type=float,
        metavar="SECONDS",
        help="wait this long for another ingest on the same data folder to end (default: refuse)",
    )
    return p


def _bad_source(sources: list[str]) -> str | None:
    """A reason to refuse the command line outright: a malformed URL, or one missing path."""
    for source in sources:
        if is_url(source) and not urlsplit(source).hostname:
            return f"{source}: not a valid URL"
    if len(sources) == 1 and not is_url(sources[0]) and not Path(sources[0]).exists():
        return f"{sources[0]}: no such file or folder"
    return None


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = parser().parse_args(argv)
    from ingest.run import run_ingest, status

    try:
        overrides: dict[str, object] = {}
        if args.follow_offsite:
            overrides["follow_offsite"] = True
        if args.ignore_robots:
            overrides["respect_robots"] = False
        if args.allow_private:
            overrides["allow_private"] = True
        if args.max_pages is not None:
            overrides["max_pages"] = args.max_pages
        if args.wait is not None:
            overrides["ingest_lock_wait"] = args.wait
        settings = StoreSettings(**overrides)  # type: ignore[arg-type]
        if args.status:
            st = status(settings)
            out = {
                "articles": st.articles,
                "chunks": st.chunks,
                "model": st.model,
                "store": st.store,
                "stale": st.stale,
                "without_url": list(st.without_url),
            }
            if args.json:
                print(json.dumps(out))
            else:
                print(
                    f"{st.articles} articles, {st.chunks} chunks, model {st.model or '-'}, "
                    f"{st.store} store{', STALE: run python -m ingest' if st.stale else ''}"
                )
                if st.without_url:
                    print(
                        f"{len(st.without_url)} without a url (citations link to the app's "
                        "/articles/<slug> page; add `url:` to the front matter to link the "
                        "blog instead): " + ", ".join(st.without_url)
                    )
            return 0
        problem = _bad_source(args.sources)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        sources: list[Path | str] | None = list(args.sources) or None
        report = run_ingest(
            settings, sources, rebuild=args.rebuild, progress=not args.json and sys.stderr.isatty()
        )
    except (ValidationError, SuppleError) as error:
        return exit_line(error)
    for skipped in report.skipped:
        print(f"skipped {skipped.source}: {skipped.reason}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.to_dict()))
    else:
        print(
            f"{report.articles} articles, {report.chunks} chunks: "
            f"{report.embedded} embedded, {report.deleted} deleted, "
            f"{len(report.skipped)} skipped in {report.seconds:.1f}s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
