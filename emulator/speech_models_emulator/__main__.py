"""``python -m speech_models_emulator``: serve the emulator on a loopback port until interrupted."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

import uvicorn

from .app import DEFAULT_KEY, create_app
from .data import load_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m speech_models_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8765, help="default: %(default)s")
    parser.add_argument("--count", type=int, default=250, help="size of the built-in data set (default: %(default)s)")
    parser.add_argument("--data", type=Path, help="serve the models of this JSON file instead")
    parser.add_argument("--key", default=DEFAULT_KEY, help="the subscription key to accept (default: %(default)s)")
    parser.add_argument("--page-retry-after", type=int, default=0, help="Retry-After seconds on 200 pages")
    args = parser.parse_args(argv)
    if args.host != "localhost" and not ipaddress.ip_address(args.host).is_loopback:
        parser.error("the emulator serves loopback addresses only")
    try:
        models = load_models(args.data) if args.data else None
        app = create_app(models, count=args.count, key=args.key, page_retry_after=args.page_retry_after)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"emulator on http://{args.host}:{args.port} (key: {args.key!r}); Ctrl-C stops it", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", lifespan="off")
    return 0


if __name__ == "__main__":
    sys.exit(main())
