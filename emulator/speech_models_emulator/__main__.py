"""``python -m speech_models_emulator``: serve the emulator on a loopback port until interrupted.

The first line on standard output is the emulator's URL (useful with ``--port 0``, which picks a free port).
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import math
import os
import signal
import sys
import threading
from pathlib import Path

from starlette.applications import Starlette

from .app import DEFAULT_KEY, create_app, load_spec
from .cassette import create_recorder_app, create_replay_app
from .data import load_models
from .faults import MAX_LATENCY
from .quota import parse_quota
from .server import run_emulator
from .validation import SpecValidator

ADVERTISE_ENV = "SPEECH_MODELS_EMULATOR_ADVERTISE"
HOST_ENV = "SPEECH_MODELS_EMULATOR_HOST"  # the image sets 0.0.0.0: all of the container's interfaces
PORT_ENV = "SPEECH_MODELS_EMULATOR_PORT"


def _quota(text: str) -> tuple[int, float]:
    try:
        return parse_quota(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _latency(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_LATENCY:
        raise argparse.ArgumentTypeError(f"latency is a number of seconds from 0 to {MAX_LATENCY:g}, not {text[:40]!r}")
    return seconds


def _is_address(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument(
        "--host",
        default=os.environ.get(HOST_ENV) or "127.0.0.1",
        help=f"the address to listen on (default: ${HOST_ENV}, else %(default)s); an address that is not loopback "
        "also needs --expose",
    )
    parser.add_argument(
        "--expose",
        action="store_true",
        default=bool(os.environ.get(HOST_ENV)),
        help=f"allow a --host that is not loopback, 0.0.0.0 say (implied by ${HOST_ENV}, which the image sets)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=os.environ.get(PORT_ENV) or "8765",  # a string default goes through type= too: a bad value is named
        help=f"0 picks a free port (default: ${PORT_ENV}, else %(default)s)",
    )
    parser.add_argument("--count", type=int, default=250, help="size of the built-in data set (default: %(default)s)")
    parser.add_argument("--data", type=Path, help="serve the models of this JSON file instead")
    parser.add_argument(
        "--key", action="append", help=f"a subscription key to accept; twice for KEY1 and KEY2 (default: {DEFAULT_KEY})"
    )
    parser.add_argument("--no-key", action="store_true", help="refuse keys: bearer tokens only (disableLocalAuth)")
    parser.add_argument(
        "--token", action="append", default=[], help="a Microsoft Entra ID bearer token to accept (repeatable)"
    )
    parser.add_argument("--page-retry-after", type=int, default=0, help="Retry-After seconds on 200 pages")
    parser.add_argument(
        "--chaos", type=float, default=0.0, metavar="RATE", help="the share of requests that meet a random fault (0-1)"
    )
    parser.add_argument("--seed", type=int, help="seed of the chaos: the same seed replays the same faults")
    parser.add_argument(
        "--quota",
        type=_quota,
        metavar="REQUESTS/SECONDS",
        help="at most REQUESTS models requests in any SECONDS, all keys together, as the service's 100/10; "
        "past it 429 with Retry-After (default: no quota)",
    )
    parser.add_argument(
        "--advertise",
        metavar="URL",
        default=os.environ.get(ADVERTISE_ENV) or None,
        help=f"the address clients reach it by, for its links (behind a mapped port); default: ${ADVERTISE_ENV}, "
        "else the address it listens on",
    )
    parser.add_argument(
        "--latency", type=_latency, default=0.0, metavar="SECONDS", help="added before every models answer"
    )
    parser.add_argument(
        "--validate", action="store_true", help="check every answer against the spec before sending it (as Prism)"
    )
    parser.add_argument(
        "--entra", action="store_true", help="accept unexpired JWTs for the Cognitive Services audience (unsigned)"
    )
    parser.add_argument(
        "--record-from",
        metavar="URL",
        help="record: proxy every request to this live endpoint and store each exchange in --cassette, secrets removed",
    )
    parser.add_argument("--cassette", type=Path, metavar="FILE", help="the file --record-from writes (replaced)")
    parser.add_argument(
        "--replay",
        type=Path,
        metavar="FILE",
        help="answer from this cassette instead of the data set (a request it does not hold: 404)",
    )
    parser.add_argument(
        "--http",
        choices=["auto", "h11", "httptools"],
        default="auto",
        help="the HTTP/1.1 parser (default: %(default)s: httptools when installed, else h11)",
    )
    return parser


def parse_arguments(argv: list[str] | None, prog: str = "python -m speech_models_emulator") -> argparse.Namespace:
    """The command line's options, checked (a usage error exits 2, naming the option)."""
    parser = _parser(prog)
    return _checked(parser, parser.parse_args(argv))


def _checked(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.Namespace:
    if not _is_address(args.host):
        parser.error(f"--host: {args.host[:60]!r} is not an IP address (127.0.0.1, ::1, or with --expose 0.0.0.0)")
    if args.host != "localhost" and not ipaddress.ip_address(args.host).is_loopback and not args.expose:
        parser.error(f"--host {args.host}: not a loopback address; add --expose to serve it to other hosts")
    if args.record_from and not args.cassette:
        parser.error("--record-from needs --cassette FILE: where to store the exchanges")
    if args.cassette and not args.record_from:
        parser.error("--cassette is where --record-from stores exchanges; to serve a cassette, use --replay FILE")
    if args.replay and args.record_from:
        parser.error("--replay and --record-from exclude each other: replay a cassette, or record one")
    return args


def _cassette_app(args: argparse.Namespace) -> Starlette:
    if args.record_from:
        return create_recorder_app(args.record_from, args.cassette, advertise=args.advertise)
    return create_replay_app(args.replay, advertise=args.advertise)


def main(argv: list[str] | None = None, prog: str = "python -m speech_models_emulator") -> int:
    parser = _parser(prog)
    args = _checked(parser, parser.parse_args(argv))
    if args.record_from or args.replay:
        try:
            app = _cassette_app(args)
        except ValueError as exc:
            parser.error(str(exc))
        return _serve(app, args, *_cassette_line(args, app))
    try:
        models = load_models(args.data) if args.data else None
        if models is not None:
            SpecValidator(load_spec()).check_models(models)  # a bad model stops start-up, named
        key = None if args.no_key else (args.key or [DEFAULT_KEY])
        app = create_app(
            models,
            count=args.count,
            key=key,
            tokens=args.token,
            page_retry_after=args.page_retry_after,
            chaos=args.chaos,
            seed=args.seed,
            entra=args.entra,
            validate=args.validate or None,
            quota=args.quota,
            latency=args.latency,
            advertise=args.advertise,
        )
    except ValueError as exc:
        parser.error(str(exc))
    auth = "bearer tokens only" if key is None else f"keys {', '.join(map(repr, key))}"
    chaos = f"; chaos {args.chaos:g} (seed {args.seed})" if args.chaos else ""
    if args.quota:
        chaos += f"; quota {args.quota[0]} requests / {args.quota[1]:g} s"
    if args.latency:
        chaos += f"; latency {args.latency:g} s"
    return _serve(app, args, f"serving {len(app.state.emulator.models)} models", f"{auth}{chaos}")


def _cassette_line(args: argparse.Namespace, app: Starlette) -> tuple[str, str]:
    if args.record_from:
        return f"recording {args.record_from} into {args.cassette}", "keys and tokens are not stored"
    return f"replaying {args.replay} ({len(app.state.cassette.exchanges)} exchanges)", "keys are not checked"


def _serve(app: Starlette, args: argparse.Namespace, what: str, detail: str) -> int:
    """Serve `app` until SIGTERM or Ctrl-C: its URL on stdout first, then one line on stderr that says what it does."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with run_emulator(app, host=args.host, port=args.port, http=args.http) as emulator:
        print(emulator.url, flush=True)
        where = f" on {emulator.http}"
        if args.host != "localhost" and not ipaddress.ip_address(args.host).is_loopback:
            where += f" (listening on {args.host}: every host that reaches this one can use it)"
        print(f"{what}{where}; {detail}; Ctrl-C stops", file=sys.stderr, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
