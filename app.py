"""Web chat entry point (``make run``): read settings, build the components, sync, warm the model, build the UI, launch.

Serves on GRADIO_SERVER_NAME:GRADIO_SERVER_PORT (default 127.0.0.1:7860).
``--no-index`` skips the first sync; ``--allow-exposed`` serves beyond
loopback without a login (otherwise NOTES_WEB_USER/NOTES_WEB_PASSWORD are required).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env-file", type=Path, default=None, help="settings file (default: ./.env)")
    p.add_argument("--no-index", action="store_true", help="do not sync the notes before starting")
    p.add_argument("--allow-exposed", action="store_true", help="bind beyond localhost without auth (not advised)")
    args = p.parse_args(argv)

    from assistant.errors import USER_ERRORS
    from assistant.settings import load_settings
    from assistant.web import run
    from assistant.wiring import Components

    try:
        settings = load_settings(dotenv=args.env_file)
        run.check_exposure(settings, args.allow_exposed)
        components = Components(settings)
        index = run.IndexService(components)
        if not args.no_index:
            run.sync_notes(index)
        run.warm_model(components)
        run.launch(run.build_app(components, index), settings)
    except USER_ERRORS as exc:
        print(f"notes-assistant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
