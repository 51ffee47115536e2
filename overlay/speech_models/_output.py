"""How the command line writes rows: a table that fits the terminal, JSON (the service's objects, streamed), JSON
Lines and CSV. Rows are produced lazily; only the table holds them all, to size its columns."""

from __future__ import annotations

import contextlib
import csv
import itertools
import json
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from speech_models_client.models import CustomModel

__all__ = ["COLUMNS", "FORMATS", "Column", "display_width", "write"]

FORMATS = ("json", "jsonl", "table", "csv")


@dataclass(frozen=True)
class Column:
    """A column of the table and CSV outputs: its header, how to read it from a row, and whether a table on a
    narrow terminal may cut it (an id is never cut: a cut id is of no use)."""

    name: str
    read: Callable[[Any], object]
    cut: bool = True


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
        Column("id", _model_id, cut=False),
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


_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch.isprintable():
        return ch
    return _ESCAPES.get(ch) or (f"\\x{ord(ch):02x}" if ord(ch) <= 0xFF else f"\\u{ord(ch):04x}")


def _escaped(cell: str) -> str:
    """A cell with control and format characters shown as escapes, so a newline in a name cannot break a row."""
    return cell if cell.isprintable() else "".join(map(_escape, cell))


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(cell: str) -> int:
    """Columns `cell` takes on a terminal: East Asian wide characters take two, combining marks none."""
    return len(cell) if cell.isascii() else sum(map(_char_width, cell))


def _cut(cell: str, size: int) -> str:
    """`cell` cut to at most `size` columns, ending in "…" when it was cut."""
    if display_width(cell) <= size:
        return cell
    kept, used = [], 0
    for ch in cell:
        width = _char_width(ch)
        if used + width > size - 1:
            break
        kept.append(ch)
        used += width
    return "".join(kept) + "…"


TABLE_FIRST_ROWS = 100  # the rows a table's widths come from (a page of the service's default size)


def _table(rows: Iterator[Sequence[str]], columns: Sequence[Column], width: int | None, out: IO[str]) -> int:
    """A table written as its rows come: the widths are those of the first rows (a page), so the first lines show
    before the listing ends (``| head``). On a terminal (`width` given) the widest columns that may be cut are cut
    (with "…") until the table fits; ids never are. Piped, nothing is cut, so ids and dates survive ``| grep`` and
    ``| less`` (a later row longer than the first ones pushes its line out of alignment). Returns the rows written."""
    first = [[_escaped(cell) for cell in row] for row in itertools.islice(rows, TABLE_FIRST_ROWS)]
    headers = [column.name for column in columns]
    widths = [max([display_width(h)] + [display_width(row[i]) for row in first]) for i, h in enumerate(headers)]
    gap = 2
    while width is not None and sum(widths) + gap * (len(widths) - 1) > width:
        cuttable = [w for w, column in zip(widths, columns, strict=True) if column.cut and w > 8]
        if not cuttable:
            break  # what is left is ids and narrow columns: the line runs over rather than cut an id
        widest = max(cuttable)
        widths[next(i for i, w in enumerate(widths) if w == widest and columns[i].cut)] -= 1

    def line(row: Sequence[str]) -> None:
        cells = ((_cut(cell, size) if width is not None else cell) for cell, size in zip(row, widths, strict=True))
        padded = [cell + " " * (size - display_width(cell)) for cell, size in zip(cells, widths, strict=True)]
        out.write((" " * gap).join(padded).rstrip())
        out.write("\n")

    for head in [headers, ["-" * w for w in widths], *first]:
        line(head)
    count = len(first)
    for row in rows:
        line([_escaped(cell) for cell in row])
        count += 1
    return count


def write(
    items: Iterator[Any],
    output: str,
    columns: Sequence[Column],
    out: IO[str],
    *,
    as_json: Callable[[Any], object],
    width: int | None = None,
) -> int:
    """Write `items` in `output` format; returns how many were written. `as_json` gives an item's JSON object;
    `width` is the terminal's (``None`` when the output is not a terminal: the table is not cut). When fetching an
    item fails midway, what was written stays valid: the JSON array is closed, CSV and JSON Lines end on a row."""
    count = 0
    if output == "json":
        first = next(items, None)  # fetched before "[" is written: a failure on the first page writes nothing
        out.write("[")
        try:
            for item in itertools.chain([] if first is None else [first], items):
                out.write(",\n  " if count else "\n  ")
                out.write(json.dumps(as_json(item), ensure_ascii=False))
                count += 1
        finally:
            with contextlib.suppress(OSError):  # the output itself may be what failed
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
        count = _table(([text(column.read(item)) for column in columns] for item in items), columns, width, out)
    return count
