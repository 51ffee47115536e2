"""Reads the reference page (openapi/reference/*.txt) into plain data, so tests can hold the spec against it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "openapi" / "reference" / "list-custom-models-2025-10-15.txt"

_SECTION = re.compile(
    r"^(\w+)\n\1\n(\| Name \| Type \| Description \||\| Value \| Description \|)\n\|(?:---\|)+\n", re.M
)
_ROW = re.compile(r"^\| (\S+) \|$", re.M)


@dataclass(frozen=True)
class PageProperty:
    name: str
    type: str | None  # None where the page's rendering lost the type
    description: str


@dataclass(frozen=True)
class Page:
    objects: dict[str, dict[str, PageProperty]]
    enums: dict[str, dict[str, str]]  # enum name -> value -> description, in page order
    sample_response: object


def _cells(block: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"\s*\|\s*(?:\n|$)", block.strip())]


def _looks_like_type(cell: str) -> bool:
    return bool(re.fullmatch(r"(string|integer|boolean|object|number)\b.*|\w+(\[\])?", cell))


def read_page(path: Path = PAGE) -> Page:
    text = path.read_text(encoding="utf-8")
    sections = list(_SECTION.finditer(text))
    objects: dict[str, dict[str, PageProperty]] = {}
    enums: dict[str, dict[str, str]] = {}
    for index, section in enumerate(sections):
        end = sections[index + 1].start() if index + 1 < len(sections) else len(text)
        body = text[section.end() : end]
        rows = list(_ROW.finditer(body))
        entries: list[tuple[str, list[str]]] = []
        for row_index, row in enumerate(rows):
            row_end = rows[row_index + 1].start() if row_index + 1 < len(rows) else len(body)
            entries.append((row.group(1), _cells(body[row.end() : row_end])))
        name = section.group(1)
        if "Value" in section.group(2):
            enums[name] = {value: " ".join(cells[0].split()) for value, cells in entries}
        else:
            props: dict[str, PageProperty] = {}
            for prop, cells in entries:
                first = cells[0] if cells else ""
                rest = cells[1] if len(cells) > 1 else ""
                if _looks_like_type(first):
                    props[prop] = PageProperty(prop, first, " ".join(rest.split()))
                else:
                    props[prop] = PageProperty(prop, None, " ".join(first.split()))
            objects[name] = props
    start = text.index("Sample response\n") + len("Sample response\n")
    sample = json.loads(text[start : text.index("\nDefinitions\n")])
    return Page(objects=objects, enums=enums, sample_response=sample)
