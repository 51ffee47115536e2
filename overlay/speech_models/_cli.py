"""The ``speech-models`` command line (also ``python -m speech_models``): list models, find the ones whose
deprecation dates come soon, and serve the emulator. Built on the SDK's own client; data on stdout, everything
else on stderr; one line and a documented exit code per kind of failure."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import logging
import os
import shlex
import shutil
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from speech_models_client.models import CustomModel

from ._client import SpeechToTextModels
from ._config import ENDPOINT_ENV, KEY_ENV
from ._errors import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    CredentialError,
    InvalidResponseError,
    NextLinkError,
    PermissionDeniedError,
    RateLimitError,
    SpeechModelsError,
)
from ._output import COLUMNS, DEFAULT_COLUMNS, FORMATS, Column, text, write
from ._throttle import rate_limit_of
from ._verify import WRONG_KEY, Side, emulator_side, report, verify
from ._version import __version__

__all__ = ["main"]

EXIT_OK = 0
EXIT_DIFFERENT = 1  # emulator verify: the live endpoint and the emulator differ
EXIT_USAGE = 2  # a bad argument (a filter the service refuses too), a missing endpoint or key, a missing extra
EXIT_AUTH = 3  # 401 or 403: the key or token was refused
EXIT_THROTTLED = 4  # 429 after the retries
EXIT_SERVICE = 5  # the service failed (5xx, another status) or could not be reached
EXIT_INVALID = 6  # the service answered with something that is not the contract (a bad page, value or link)
EXIT_OUTPUT = 7  # stdout could not be written (closed, a full disk, /dev/full)
EXIT_INTERRUPTED = 130  # Ctrl-C
OUTPUT_ENV = "SPEECH_MODELS_OUTPUT"
_KINDS = ("transcription", "adaptation")
_INSTALL = "pip install 'speech-models[{}]'"

EXAMPLES = {
    "list": "example: speech-models models list --filter \"status eq 'Succeeded'\" -o table",
    "expiring": "example: speech-models models expiring --within 90 --output table",
    "emulator": "example: speech-models emulator --port 8765 --count 1000",
    "verify": "example: speech-models emulator verify --endpoint https://westus.api.cognitive.microsoft.com",
}


class Progress:
    """Models and pages so far, on stderr, when stderr is a terminal and the listing has taken over a second."""

    def __init__(self, stream: IO[str], enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._enabled = enabled and stream.isatty()
        self._clock = clock
        self._started = clock()
        self._shown = False
        self.models = 0
        self.pages = 0

    def page(self, size: int) -> None:
        self.models += size
        self.pages += 1
        if self._enabled and self._clock() - self._started > 1.0:
            self._stream.write(f"\r{self.models:,} models, {self.pages:,} pages so far")
            self._stream.flush()
            self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\r" + " " * 60 + "\r")
            self._stream.flush()


@contextlib.contextmanager
def _opened(args: argparse.Namespace) -> Iterator[SpeechToTextModels]:
    """The command's client, closed when the command ends, except when Ctrl-C ends it: the process is ending then,
    and closing could wait forever on a lock the interrupt left held (httpcore's pool takes its lock in a
    Python-level ``__enter__``, which a ``KeyboardInterrupt`` can land in after the lock is taken)."""
    client = _client(args)
    try:
        yield client
    except KeyboardInterrupt:
        raise
    except BaseException:
        client.close()
        raise
    client.close()


def _client(args: argparse.Namespace) -> SpeechToTextModels:
    if not (args.endpoint or os.environ.get(ENDPOINT_ENV, "").strip()):
        raise ConfigurationError(
            f"no endpoint: pass --endpoint or set {ENDPOINT_ENV} (for example https://westus.api.cognitive.microsoft.com)"
        )
    if args.auth == "key" and not (args.key or os.environ.get(KEY_ENV, "").strip()):
        raise ConfigurationError(f"no subscription key: pass --key or set {KEY_ENV} (or use --auth entra)")
    if args.auth == "entra":
        try:
            identity = importlib.import_module("azure.identity")
        except ImportError:
            raise ConfigurationError(f"--auth entra needs the [azure] extra: {_INSTALL.format('azure')}") from None
        return SpeechToTextModels(
            args.endpoint, credential=identity.DefaultAzureCredential(), rate_limit=args.rate_limit
        )
    return SpeechToTextModels(args.endpoint, args.key, rate_limit=args.rate_limit)


def _rate_limit(value: str) -> tuple[int, float]:
    """``--rate-limit 100/10``: at most 100 requests in any 10 seconds."""
    requests, slash, seconds = value.partition("/")
    try:
        limit = rate_limit_of((int(requests), float(seconds))) if slash else None
    except ValueError:  # not numbers, or not a rate (the client's own check)
        limit = None
    if limit is not None:
        return limit
    raise argparse.ArgumentTypeError(f"--rate-limit is REQUESTS/SECONDS, such as 100/10, not {value[:40]!r}")


def _models(client: SpeechToTextModels, args: argparse.Namespace, progress: Progress) -> Iterator[CustomModel]:
    listing = client.list_models(
        filter=args.filter,
        top=args.top,
        max_items=args.max_items,
        continuation_token=args.continuation_token,
        concurrency=args.concurrency,
    )
    for page in listing.by_page():
        progress.page(len(page))
        yield from page.items


def _checked_columns(args: argparse.Namespace, default: Sequence[str], available: dict[str, Column]) -> list[Column]:
    """The columns of a table or csv; ``--columns`` with json or jsonl, which are the service's objects whole, is
    refused rather than ignored."""
    if args.columns is not None and args.output in ("json", "jsonl"):
        raise ConfigurationError(
            f"--columns applies to -o table and -o csv; -o {args.output} writes the service's objects whole"
        )
    return _columns(args.columns, default, available)


def _columns(names: str | None, default: Sequence[str], available: dict[str, Column]) -> list[Column]:
    chosen = [name.strip() for name in names.split(",")] if names else list(default)
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise ConfigurationError(f"unknown column {unknown[0]!r}; the columns are: {', '.join(available)}")
    return [available[name] for name in chosen]


def _width(out: IO[str]) -> int | None:
    """The terminal's width when `out` is one; ``None`` (nothing is cut) when it is piped or redirected."""
    return shutil.get_terminal_size((120, 24)).columns if out.isatty() else None


class OutputError(Exception):
    """Writing stdout failed (a full disk, ``/dev/full``); a closed pipe is not one (it ends the command quietly)."""


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as error:
        raise OutputError(error.strerror or str(error)) from error


class Stopped(Exception):
    """A listing failed after some of it was written: the error, how many models went out, and where to resume."""

    def __init__(self, error: SpeechModelsError, written: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.written = written


def _list(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    columns = _checked_columns(args, DEFAULT_COLUMNS, COLUMNS)
    progress = Progress(err, not args.quiet)
    with _opened(args) as client:
        items = _models(client, args, progress)
        try:
            with _writing():
                write(items, args.output, columns, out, as_json=lambda m: m.to_dict(), width=_width(out))
                out.flush()
        except SpeechModelsError as error:
            if progress.models and args.output != "table":  # a table is written only once it is whole
                raise Stopped(error, progress.models) from error
            raise
        finally:
            progress.done()
    return EXIT_OK


@dataclass(frozen=True)
class Expiring:
    """A model and one of its deprecation dates."""

    model: CustomModel
    kind: str
    date: datetime.datetime
    now: datetime.datetime

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "deprecationDateTime": text(self.date), "model": self.model.to_dict()}


EXPIRING_COLUMNS: dict[str, Column] = {
    "name": Column("name", lambda e: e.model.display_name),
    "id": Column("id", lambda e: COLUMNS["id"].read(e.model), cut=False),
    "locale": Column("locale", lambda e: e.model.locale),
    "kind": Column("kind", lambda e: e.kind),
    "deprecation": Column("deprecation", lambda e: e.date),
    "days-left": Column("days-left", lambda e: (e.date - e.now).days),
    "status": Column("status", lambda e: e.model.status),
}
DEFAULT_EXPIRING_COLUMNS = ("name", "id", "locale", "kind", "deprecation", "days-left")


def _deprecation(model: CustomModel, kind: str) -> datetime.datetime | None:
    """The model's deprecation date of `kind`. The 2025-10-15 page lists only ``transcriptionDateTime`` for custom
    models; ``adaptationDateTime`` is read when a service sends it (as an unlisted field)."""
    dates = model.properties.deprecation_dates if model.properties else None
    if dates is None:
        return None
    if kind == "transcription":
        return dates.transcription_date_time
    raw = dates.additional_properties.get("adaptationDateTime")
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _parse_date(value: str) -> datetime.datetime:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date or date-time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _days(value: str) -> float:
    try:
        days = float(value)
    except ValueError:
        days = -1.0
    if not 0 <= days <= 36_500:
        raise argparse.ArgumentTypeError(f"--within takes a number of days from 0 to 36500, not {value!r}")
    return days


def _expiring(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    columns = _checked_columns(args, DEFAULT_EXPIRING_COLUMNS, EXPIRING_COLUMNS)
    now = datetime.datetime.now(datetime.UTC)
    limit = args.before if args.before is not None else now + datetime.timedelta(days=args.within)
    kinds = [args.kind] if args.kind else list(_KINDS)
    progress = Progress(err, not args.quiet)
    found: list[Expiring] = []
    with _opened(args) as client:
        try:
            for model in _models(client, args, progress):
                for kind in kinds:
                    date = _deprecation(model, kind)
                    if date is not None and date < limit:
                        found.append(Expiring(model, kind, date, now))
        finally:
            progress.done()
    found.sort(key=lambda e: e.date)
    with _writing():
        write(iter(found), args.output, columns, out, as_json=Expiring.as_json, width=_width(out))
        out.flush()
    return EXIT_OK


def _emulator(argv: Sequence[str], err: IO[str]) -> int:
    """``speech-models emulator ...``: the emulator's own command line (``python -m speech_models_emulator``), the
    same options from the same parser."""
    try:
        from speech_models_emulator.__main__ import main as emulator_main
    except ImportError:
        err.write("speech-models: error: the emulator needs the [emulator] extra: ")
        err.write("pip install 'speech-models[emulator]'\n")
        return EXIT_USAGE
    return emulator_main(list(argv), prog="speech-models emulator")


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, wrapped to the terminal between words only (argparse breaks at hyphens: ``transcription-`` /
    ``deprecation``); each line of a description or epilog is a paragraph of its own, wrapped the same way."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False, break_long_words=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(
            textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent + "  ", break_on_hyphens=False)
            if line.strip()
            else ""
            for line in text.splitlines()
        )


def _connection() -> argparse.ArgumentParser:
    """The options of every command that calls the service: where, with which credentials, how fast."""
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--endpoint", help=f"the service endpoint (default: ${ENDPOINT_ENV})")
    connection.add_argument("--key", help=f"the subscription key (default: ${KEY_ENV}); never printed")
    connection.add_argument("--auth", choices=("key", "entra"), default="key", help="entra: DefaultAzureCredential")
    connection.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="REQUESTS/SECONDS",
        help="send at most REQUESTS in any SECONDS: the resource's quota (100/10) or this program's share of it",
    )
    connection.add_argument("--debug", action="store_true", help="the SDK's debug log on stderr (secrets redacted)")
    return connection


def _verify_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speech-models emulator verify",
        parents=[_connection()],
        description=(
            "Send the same read-only requests to a live endpoint and to the emulator and print each difference in "
            "what contract tests rely on: page shape, @nextLink form, top/skip/filter answers, error bodies and codes "
            "for a bad filter, a wrong key and an unknown api-version, the request-id and Retry-After headers, and "
            "the models' fields and types. Exit 0 when there is none, 1 otherwise."
        ),
        epilog=EXAMPLES["verify"],
        formatter_class=_HelpFormatter,
    )
    parser.set_defaults(run=_verify)
    return parser


def _verify(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """``speech-models emulator verify``: 0 when the live endpoint and the emulator agree, 1 otherwise."""
    try:
        emulator, emulator_models = emulator_side()
    except ImportError:
        raise ConfigurationError(f"verify needs the [emulator] extra: {_INSTALL.format('emulator')}") from None
    wrong_key = argparse.Namespace(**{**vars(args), "key": WRONG_KEY, "auth": "key"})
    with contextlib.closing(emulator), _opened(args) as client, _opened(wrong_key) as wrong:
        next(iter(client.list_models(top=1).by_page()), None)  # a refused key or a dead endpoint ends here, typed
        result = verify(Side("live", client, wrong), emulator, emulator_models)
    report(result, client.endpoint, out)
    return EXIT_DIFFERENT if result.differences else EXIT_OK


def _parser() -> argparse.ArgumentParser:
    formatter = _HelpFormatter
    common = argparse.ArgumentParser(add_help=False, parents=[_connection()])
    common.add_argument("--quiet", action="store_true", help="no progress on stderr")
    common.add_argument(
        "--output",
        "-o",
        choices=FORMATS,
        help=f"json (default, as the Azure CLI; ${OUTPUT_ENV} changes it), jsonl, table or csv",
    )
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("--filter", help="an OData filter, such as \"status eq 'Running'\"")
    listing.add_argument("--top", type=int, help="the page size asked of the service")
    listing.add_argument("--max-items", type=int, help="stop after this many models")
    listing.add_argument(
        "--continuation-token", help="resume a listing where it stopped (a failed listing prints its token)"
    )
    listing.add_argument(
        "--concurrency",
        type=int,
        default=1,
        help="fetch up to this many pages at once, ahead of the output (same models, same order; default 1)",
    )

    parser = argparse.ArgumentParser(
        prog="speech-models",
        description="Azure AI Speech custom models (Speech to text API 2025-10-15) from the command line.",
        epilog=(
            "exit codes: 0 ok; 2 usage or configuration (a filter the service refuses too); 3 authentication; "
            "4 throttled after retries; 5 service or connection; 6 invalid response; 7 output not written; "
            "130 interrupted\n" + EXAMPLES["list"]
        ),
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"speech-models {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{models,emulator}")
    models = commands.add_parser(
        "models", help="the subscription's custom models", epilog=EXAMPLES["list"], formatter_class=formatter
    )
    model_commands = models.add_subparsers(dest="action", required=True, metavar="{list,expiring}")
    list_command = model_commands.add_parser(
        "list",
        parents=[common, listing],
        help="every model, all pages",
        description="List the custom models of the subscription, following every page.",
        epilog=EXAMPLES["list"] + f"\ncolumns: {', '.join(COLUMNS)}",
        formatter_class=formatter,
    )
    list_command.add_argument("--columns", help=f"for table and csv (default: {','.join(DEFAULT_COLUMNS)})")
    list_command.set_defaults(run=_list)
    expiring = model_commands.add_parser(
        "expiring",
        parents=[common, listing],
        help="models whose deprecation dates fall in a window, soonest first",
        description=(
            "Models whose properties.deprecationDates fall before a date (dates already past included), soonest "
            "first. The service cannot filter on these dates, so the whole listing is read."
        ),
        epilog=EXAMPLES["expiring"] + f"\ncolumns: {', '.join(EXPIRING_COLUMNS)}",
        formatter_class=formatter,
    )
    window = expiring.add_mutually_exclusive_group()
    window.add_argument("--within", type=_days, default=30.0, help="days from now (default: 30)")
    window.add_argument("--before", type=_parse_date, help="an ISO 8601 date or date-time (UTC unless it says)")
    expiring.add_argument("--kind", choices=_KINDS, help="one kind of deprecation date (default: both)")
    expiring.add_argument("--columns", help=f"for table and csv (default: {','.join(DEFAULT_EXPIRING_COLUMNS)})")
    expiring.set_defaults(run=_expiring)
    emulator = commands.add_parser(
        "emulator",
        help="serve the emulator on a loopback port, or verify it against a live endpoint (the [emulator] extra)",
        description=(
            "Serve the service's emulator on 127.0.0.1 until Ctrl-C (speech-models emulator --help for its "
            "options), or compare it with a live endpoint: speech-models emulator verify --help."
        ),
        epilog=EXAMPLES["emulator"],
        formatter_class=formatter,
    )
    emulator.set_defaults(run=None, debug=False)  # main() hands its arguments to the emulator's own parser
    return parser


def _exit_code(error: SpeechModelsError) -> int:
    if isinstance(error, BadRequestError):
        return EXIT_USAGE
    if isinstance(error, AuthenticationError | PermissionDeniedError | CredentialError):
        return EXIT_AUTH
    if isinstance(error, RateLimitError):
        return EXIT_THROTTLED
    if isinstance(error, InvalidResponseError | NextLinkError):
        return EXIT_INVALID
    return EXIT_SERVICE  # APIStatusError (5xx and the rest), APIConnectionError


def _output_format(args: argparse.Namespace) -> None:
    """``--output``, else ``$SPEECH_MODELS_OUTPUT``, else json; a value that is none of them is a usage error."""
    if getattr(args, "output", "json") is not None:
        return
    chosen = os.environ.get(OUTPUT_ENV, "").strip() or "json"
    if chosen not in FORMATS:
        raise ConfigurationError(
            f"{OUTPUT_ENV}={chosen[:40]!r} is not an output format; use one of {', '.join(FORMATS)}"
        )
    args.output = chosen


@contextlib.contextmanager
def _debug_log(enabled: bool, err: IO[str]) -> Iterator[None]:
    """The SDK's debug log on `err` for the command's duration; the logger is left as it was found."""
    if not enabled:
        yield
        return
    logger = logging.getLogger("speech_models")
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _quiet_stdout(out: IO[str]) -> None:
    """Point stdout's descriptor at /dev/null, so the interpreter's last flush cannot fail loudly again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())


def _stopped(stop: Stopped) -> str:
    error = stop.error
    where = f"; stopped after {stop.written:,} models"
    token = error.continuation_token
    if token:
        where += f"; resume with --continuation-token {shlex.quote(token)}"
    return f"speech-models: {type(error).__name__}: {error}{where}\n"


def main(argv: Sequence[str] | None = None, *, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    err = err or sys.stderr
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["emulator"] and arguments[1:2] != ["verify"]:
        return _emulator(arguments[1:], err)
    args = (
        _verify_parser().parse_args(arguments[2:]) if arguments[:1] == ["emulator"] else _parser().parse_args(arguments)
    )
    out = out or sys.stdout
    if out is None:  # started with stdout closed (>&-)
        err.write("speech-models: error: stdout is closed; nothing can be written\n")
        return EXIT_OUTPUT
    try:
        _output_format(args)
        with _debug_log(args.debug, err):
            code: int = args.run(args, out, err)
        return code
    except ConfigurationError as error:
        err.write(f"speech-models: error: {error}\n")
        return EXIT_USAGE
    except Stopped as stop:
        err.write(_stopped(stop))
        return _exit_code(stop.error)
    except SpeechModelsError as error:
        err.write(f"speech-models: {type(error).__name__}: {error}\n")
        return _exit_code(error)
    except OutputError as error:
        err.write(f"speech-models: error: cannot write the output: {error}\n")
        _quiet_stdout(out)
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (| head): stop quietly, and keep Python from complaining when it flushes stdout.
        _quiet_stdout(out)
        return EXIT_OK


INTERRUPT_GRACE = 2.0  # seconds an interrupted command has to end before it is ended outright


class _Interrupts:
    """Ctrl-C for the command line (a program's choice, so only ``run`` makes it, never the library): the first raises
    ``KeyboardInterrupt`` as Python's own handler does, and the command ends through it with 130; if it has not ended
    ``INTERRUPT_GRACE`` seconds later, or at a second Ctrl-C, the process exits 130 at once. An interrupt that lands
    between a lock's acquire and its ``with`` block (httpcore's, say) leaves that lock held, and the unwinding can
    wait on it forever: the CI saw that twice."""

    def __init__(self) -> None:
        self._interrupted = threading.Event()  # set only by the handler, waited on only by the watchdog
        threading.Thread(target=self._watch, name="speech-models-interrupt", daemon=True).start()

    def handle(self, signum: int, frame: object) -> None:
        if self._interrupted.is_set():
            os._exit(EXIT_INTERRUPTED)
        self._interrupted.set()
        raise KeyboardInterrupt

    def _watch(self) -> None:
        self._interrupted.wait()
        time.sleep(INTERRUPT_GRACE)
        os._exit(EXIT_INTERRUPTED)


def run() -> None:
    """The console script's entry point."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _Interrupts().handle)
    sys.exit(main())
