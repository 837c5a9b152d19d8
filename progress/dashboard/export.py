"""CSV that a spreadsheet opens right: UTF-8 with a byte order mark, every field quoted, no formulas."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

BOM = "\ufeff"
"""Tells Excel the file is UTF-8 (without it, Arabic and accented names come out garbled)."""
CSV_FORMULA = re.compile(r"(^|[;,\t\r\n])( *[=+\-@])")
"""A formula start at the beginning of the cell or after a separator a spreadsheet may split on (`;` in
French and Arabic locales, `,`, tab, line breaks)."""
CHUNK = 64 * 1024


def csv_cell(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    text = CSV_FORMULA.sub(r"\1'\2", "" if value is None else str(value))
    return f"'{text}" if text.startswith(("\t", "\r")) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """The header and rows as CSV text, streamed in chunks, starting with the byte order mark."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow([csv_cell(name) for name in header])
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
        if buffer.tell() > CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
