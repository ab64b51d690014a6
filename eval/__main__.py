"""python -m eval run SET.yaml [...] | calibrate SET.yaml [...] | bench [--quick] [--json OUT] | gaps [...]"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    args = sys.argv[1:] if argv is None else argv
    commands = ("run", "calibrate", "bench", "gaps")
    if not args or args[0] not in commands:
        print(f"usage: python -m eval {{{','.join(commands)}}} ...", file=sys.stderr)
        return 2
    command, rest = args[0], args[1:]
    if command == "bench":
        from eval.bench import main as bench_main

        return bench_main(rest)
    from pydantic import ValidationError

    from assistant.settings import Settings
    from ingest.settings import exit_line

    try:
        settings = Settings()
    except ValidationError as error:
        return exit_line(error)
    if command == "run":
        from eval.run import main as run_main

        return run_main(rest, settings)
    if command == "calibrate":
        from eval.calibrate import main as calibrate_main

        return calibrate_main(rest, settings)
    from eval.gaps import main as gaps_main

    return gaps_main(rest, settings)


if __name__ == "__main__":
    sys.exit(main())
