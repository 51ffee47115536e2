"""How the command line writes rows: a table that fits the terminal, JSON (the service's objects, streamed), JSON
Lines and CSV. Rows are produced lazily; only the table holds them all, to size its columns."""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from speech_models_client.models import CustomModel

__all__ = ["COLUMNS", "FORMATS", "Column", "write"]

FORMATS = ("json", "jsonl", "table", "csv")


@dataclass(frozen=True)
class Column:
    """A column of the table and CSV outputs: its header and how to read it from a row."""

    name: str
    read: Callable[[Any], object]


def _model_id(model: CustomModel) -> str | None:
    """The model's id: the last path segment of its ``self`` URL."""
    link = model.self_
    return link.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] if link else None


def _transcription_deprecation(model: CustomModel) -> object:
    properties = model.properties
    dates = properties.deprecation_dates if properties else None
    return dates.transcription_date_time if dates else None


COLUMNS: dict[str, Column] = {
    column.name: column
    for column in (
        Column("name", lambda m: m.display_name),
        Column("id", _model_id),
        Column("locale", lambda m: m.locale),
        Column("status", lambda m: m.status),
        Column("created", lambda m: m.created_date_time),
        Column("last-action", lambda m: m.last_action_date_time),
        Column("transcription-deprecation", _transcription_deprecation),
        Column("description", lambda m: m.description),
    )
}
DEFAULT_COLUMNS = ("name", "id", "locale", "status", "created", "transcription-deprecation")


def text(value: object) -> str:
    """A cell: date-times as ISO 8601 with Z, enums as their value, None as empty."""
    if value is None:
        return ""
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        return str(isoformat()).replace("+00:00", "Z")
    return str(value)


def _table(rows: Iterable[Sequence[str]], headers: Sequence[str], width: int, out: IO[str]) -> None:
    """Columns sized to their content; the widest are cut (with "…") until the table fits `width`."""
    body = [list(row) for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in body]) for i, h in enumerate(headers)]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width and max(widths) > 8:
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def cut(cell: str, size: int) -> str:
        return cell if len(cell) <= size else cell[: size - 1] + "…"

    for row in [list(headers), ["-" * w for w in widths], *body]:
        out.write((" " * gap).join(cut(cell, w).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        out.write("\n")


def write(
    items: Iterator[Any],
    output: str,
    columns: Sequence[Column],
    out: IO[str],
    *,
    as_json: Callable[[Any], object],
    width: int = 100,
) -> int:
    """Write `items` in `output` format; returns how many were written. `as_json` gives an item's JSON object."""
    count = 0
    if output == "json":
        first = next(items, None)  # fetched before "[" is written: a failure on the first page writes nothing
        out.write("[")
        for item in itertools.chain([] if first is None else [first], items):
            out.write(",\n  " if count else "\n  ")
            out.write(json.dumps(as_json(item), ensure_ascii=False))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif output == "jsonl":
        for item in items:
            out.write(json.dumps(as_json(item), ensure_ascii=False))
            out.write("\n")
            count += 1
    elif output == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([column.name for column in columns])
        for item in items:
            writer.writerow([text(column.read(item)) for column in columns])
            count += 1
    else:
        rows = []
        for item in items:
            rows.append([text(column.read(item)) for column in columns])
            count += 1
        _table(rows, [column.name for column in columns], width, out)
    return count
