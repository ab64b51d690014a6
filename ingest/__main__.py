"""python -m ingest [PATH_OR_URL ...] [--rebuild] [--json] | --status [--json]"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ingest.errors import SuppleError
from ingest.settings import StoreSettings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Index the corpus folder (or the given files and folders) into the store. "
        "Re-running on unchanged input embeds nothing.",
    )
    p.add_argument("sources", nargs="*", metavar="PATH_OR_URL", help="files or folders to index")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--status", action="store_true", help="say what the index holds")
    return p


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    args = parser().parse_args(argv)
    from ingest.run import run_ingest, status

    try:
        settings = StoreSettings()
        if args.status:
            st = status(settings)
            out = {
                "articles": st.articles,
                "chunks": st.chunks,
                "model": st.model,
                "store": st.store,
                "stale": st.stale,
            }
            if args.json:
                print(json.dumps(out))
            else:
                print(
                    f"{st.articles} articles, {st.chunks} chunks, model {st.model or '-'}, "
                    f"{st.store} store{', STALE: run python -m ingest' if st.stale else ''}"
                )
            return 0
        sources = [Path(s) for s in args.sources] or None
        if sources and not any(p.exists() for p in sources) and len(sources) == 1:
            print(f"error: {sources[0]}: no such file or folder", file=sys.stderr)
            return 2
        report = run_ingest(
            settings, sources, rebuild=args.rebuild, progress=not args.json and sys.stderr.isatty()
        )
    except SuppleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
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
