"""Byte-level checks of a CSV file before any parser sees it: what pandas would shift or swallow.

Why a separate pass: pandas' C parser silently copes with damage that changes the data —
a stray quote swallows the following lines into one field, a row with one field too many
turns the first column into the index, a line of spaces becomes a row of empty values,
CR-only line ends make the whole file one line, a 40 MiB line makes the id parser ask for
hundreds of GiB. BAAC files are simple (one record per physical line, no quoted line
breaks), so every line can be checked on the raw bytes, vectorised with numpy (about one
byte of temporary memory per byte of file per array), and refused with the physical line,
the column and the value before a single row is parsed.

The separator and the quote are ASCII, so the checks hold for UTF-8, CP1252 and Latin-1
files alike, and also for files that mix them.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from accidents.errors import DataError

#: Longest accepted physical line. Published BAAC lines are 60-400 bytes (the longest
#: field is ``adr``); anything beyond this is damage (a lost line end, binary data).
MAX_LINE_BYTES = 16 * 1024
#: A ``.gz`` file may expand to at most this many times its size (CSV compresses 5-10x):
#: a decompression bomb is refused instead of filling the memory.
MAX_GZIP_RATIO = 100
#: ... and never beyond this many bytes (a five-year usagers file is ~60 MB).
MAX_DECOMPRESSED_BYTES = 2 * 1024**3

_QUOTE = 0x22
_LF = 0x0A
_CR = 0x0D
#: Control bytes that never occur in CSV text (tab, LF and CR are handled separately).
CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LONE_CR = re.compile(rb"\r(?!\n)")

#: Leading bytes of formats that are not CSV text, with what to tell the user.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed data (name it .csv.gz, or decompress it)"),
    (b"PK\x03\x04", "a ZIP archive (or an .xlsx workbook); extract the CSV file from it"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"%PDF", "a PDF document"),
    (b"BZh", "bzip2-compressed data; decompress it"),
    (b"\xfd7zXZ\x00", "xz-compressed data; decompress it"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive; extract the CSV file from it"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data; decompress it"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document; export it as CSV"),
    (b"\xff\xfe", "UTF-16 text; save it as UTF-8"),
    (b"\xfe\xff", "UTF-16 text; save it as UTF-8"),
)
_HTML = re.compile(rb"^\s*<(!doctype|html|head|body|\?xml|!--)", re.IGNORECASE)


@dataclass
class Lines:
    """Where the physical lines of a file are (0-based byte offsets, ends exclude CR/LF)."""

    starts: np.ndarray
    ends: np.ndarray
    blank: np.ndarray  # empty or only spaces/tabs (counted and skipped)
    ends_with_newline: bool
    too_long: int | None = None  # index of the first line over MAX_LINE_BYTES

    def number(self, i: int) -> int:
        """1-based physical line number of line index ``i``."""
        return i + 1


def read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed for ``.gz`` with a bound on the expansion."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the file: {exc}") from exc
    if path.suffix.lower() != ".gz":
        return data
    limit = min(max(64 * 1024**2, MAX_GZIP_RATIO * len(data)), MAX_DECOMPRESSED_BYTES)
    try:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit:
            raise DataError(f"{path}: cannot read the file: it decompresses to more than {limit:,} bytes "
                            f"({len(data):,} compressed); not a BAAC table")
        if not inflater.eof:
            raise DataError(f"{path}: cannot read the file: the gzip stream is truncated "
                            f"(Compressed file ended before the end-of-stream marker was reached)")
    except zlib.error as exc:
        raise DataError(f"{path}: cannot read the file: not a valid gzip file ({exc})") from exc
    return out


def refuse_non_text(data: bytes, path: Path) -> None:
    """Refuse compressed, archive, PDF, UTF-16 or HTML content under a CSV name."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise DataError(f"{path}: line 1, column 1: the file is {what}, not CSV text "
                            f"(starts with bytes {data[:8]!r})")
    if _HTML.match(data[:1024]):
        raise DataError(f"{path}: line 1, column 1: the file is an HTML/XML page, not CSV text "
                        f"(starts with {data[:60]!r}); a download probably returned an error page")


def _line_of(data: bytes, pos: int) -> tuple[int, int, int]:
    """(1-based line number, line start, line end) of byte offset ``pos``."""
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    end = len(data) if end < 0 else end
    return data.count(b"\n", 0, pos) + 1, start, end


def field_at(line: bytes, offset: int, sep: bytes) -> tuple[int, bytes]:
    """(0-based field index, field bytes) of byte ``offset`` in ``line`` (quotes respected)."""
    index, inside, field_start = 0, False, 0
    for i, byte in enumerate(line[:offset]):
        if byte == _QUOTE:
            inside = not inside
        elif not inside and line[i:i + 1] == sep:
            index, field_start = index + 1, i + 1
    nxt = line.find(sep, offset)
    return index, line[field_start:len(line) if nxt < 0 else nxt]


def column_name(names: list[str], index: int) -> str:
    """The header name of field ``index`` (or its position when beyond the header)."""
    return repr(names[index]) if index < len(names) else f"#{index + 1} (beyond the header's {len(names)})"


def _show(value: bytes, limit: int = 60) -> str:
    text = value[:limit].decode("utf-8", "backslashreplace")
    return repr(text) + (f"... ({len(value):,} bytes)" if len(value) > limit else "")


def _refuse_byte(data: bytes, pattern: re.Pattern[bytes], path: Path, names: list[str], sep: bytes,
                 what: str) -> None:
    """Refuse the first match of ``pattern``, naming its line, column and value."""
    found = pattern.search(data)
    if found is None:
        return
    pos = found.start()
    line_no, start, end = _line_of(data, pos)
    index, value = field_at(data[start:min(end, start + MAX_LINE_BYTES)], pos - start, sep)
    raise DataError(f"{path}: line {line_no}, column {column_name(names, index)}: "
                    f"{what.format(byte=data[pos])} in value {_show(value)}")


def refuse_control_bytes(data: bytes, path: Path, names: list[str], sep: bytes) -> None:
    """NUL and other control bytes (not tab/CR/LF) mean binary or damaged content."""
    _refuse_byte(data, CONTROL, path, names, sep,
                 "control byte 0x{byte:02x} (CSV text has none: binary or damaged file)")


def refuse_stray_cr(data: bytes, path: Path, names: list[str], sep: bytes) -> None:
    """A CR not followed by LF inside the file (CR-only files are refused by refuse_cr_only_file)."""
    _refuse_byte(data, _LONE_CR, path, names, sep,
                 "a carriage return (CR) without a line feed (a stray CR or a CR-only line end)")


def refuse_cr_only_file(data: bytes, path: Path) -> None:
    """CR-only (classic Mac) line ends: the first line break is a lone CR."""
    head = data[:MAX_LINE_BYTES + 1]
    cr, lf = head.find(b"\r"), head.find(b"\n")
    if cr >= 0 and (lf < 0 or cr < lf) and head[cr + 1:cr + 2] != b"\n":
        raise DataError(f"{path}: line 1: the file uses CR-only line ends (classic Mac): every "
                        f"record would merge into one line. Save it with LF or CRLF line ends")


def find_lines(data: bytes) -> Lines:
    """Line offsets; ``too_long`` marks the first line over MAX_LINE_BYTES (refused by refuse_long_line)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == _LF)
    ends_with_newline = bool(len(raw)) and raw[-1] == _LF
    starts = np.concatenate(([0], newlines + 1)).astype(np.int64)
    ends = np.concatenate((newlines, [len(raw)])).astype(np.int64)
    if ends_with_newline:
        starts, ends = starts[:-1], ends[:-1]
    lengths = ends - starts
    over = lengths > MAX_LINE_BYTES
    too_long = int(np.argmax(over)) if over.any() else None
    if too_long is not None:  # refused next: spend no more memory on this file
        return Lines(starts, ends, np.zeros(len(starts), dtype=bool), ends_with_newline, too_long)
    # CR of CRLF belongs to the line end, not to the last value
    has_cr = (lengths > 0) & (raw[np.maximum(ends - 1, 0)] == _CR) if len(raw) else lengths > 0
    ends = ends - has_cr
    content = ~np.isin(raw, np.array([0x20, 0x09, _CR, _LF], dtype=np.uint8))
    nonempty = ends > starts
    blank = ~nonempty
    if nonempty.any():
        # reduceat runs to the next start: the LF and CR in between are not content, so this is exact
        seg = np.logical_or.reduceat(content, starts[nonempty])
        blank[np.flatnonzero(nonempty)] = ~seg
    return Lines(starts, ends, blank, ends_with_newline, too_long)


def refuse_long_line(data: bytes, path: Path, lines: Lines, names: list[str] | None, sep: bytes) -> None:
    """A line over MAX_LINE_BYTES is refused, naming the column where the limit is crossed."""
    i = lines.too_long
    if i is None:
        return
    start = int(lines.starts[i])
    length = int(lines.ends[i]) - start
    where = ""
    if names is not None:
        head = data[start:start + MAX_LINE_BYTES]
        index, value = field_at(head, MAX_LINE_BYTES - 1, sep)
        where = f", column {column_name(names, index)}: value {_show(value)}"
    raise DataError(
        f"{path}: line {i + 1}{where}: the line is {length:,} bytes long, over the limit of "
        f"{MAX_LINE_BYTES:,} (BAAC lines are under 1 KiB): a lost line end or a damaged value "
        f"(line starts {_show(data[start:start + 60])})"
    )


def check_structure(data: bytes, path: Path, lines: Lines, names: list[str], sep: bytes) -> None:
    """Every non-blank line has balanced quotes and exactly the header's number of fields."""
    raw = np.frombuffer(data, dtype=np.uint8)
    if not len(raw):
        return
    quote = raw == _QUOTE
    odd = np.logical_xor.reduceat(quote, lines.starts) & ~lines.blank
    truncated_hint = (" The file ends without a line end: it looks truncated."
                      if not lines.ends_with_newline else "")
    if odd.any():
        i = int(np.argmax(odd))
        line = data[lines.starts[i]:lines.ends[i]]
        last = i == len(lines.starts) - 1
        opening = _unclosed_quote(line)
        index, value = field_at(line, opening, sep)
        raise DataError(
            f"{path}: line {i + 1}, column {column_name(names, index)}: a quote opens in value "
            f"{_show(value)} and is not closed on that line; a CSV parser would swallow the "
            f"following lines into this value" + (truncated_hint if last else "")
        )
    inside = np.logical_xor.accumulate(quote)  # parity resets at each line: quotes are balanced
    real_sep = (raw == sep[0]) & ~inside
    del inside, quote
    # separators per line: bincount of each separator's line (4x faster than add.reduceat
    # with an int64 cast of the whole file)
    positions = np.flatnonzero(real_sep)
    del real_sep
    owner = np.searchsorted(lines.starts, positions, side="right") - 1
    counts = np.bincount(owner, minlength=len(lines.starts)) + 1
    # a separator after the line's CR/LF cannot exist (the CR/LF ends the segment)
    wrong = (counts != len(names)) & ~lines.blank
    wrong[0] = False  # the header itself
    if not wrong.any():
        return
    i = int(np.argmax(wrong))
    n = int(counts[i])
    line = data[lines.starts[i]:lines.ends[i]]
    last = i == len(lines.starts) - 1
    if n > len(names):
        offset = _nth_sep(line, len(names), sep)
        _, value = field_at(line, offset + 1, sep)
        where = f"column {column_name(names, len(names))}"
        what = (f"{n} fields where the header has {len(names)}: value {_show(value)} is beyond the "
                f"last column {names[-1]!r} (a separator inside an unquoted value, or columns "
                f"shifted)")
    else:
        _, value = field_at(line, len(line), sep)
        where = f"column {column_name(names, n)}"
        what = (f"{n} fields where the header has {len(names)}: columns {names[n]!r} to "
                f"{names[-1]!r} are absent after value {_show(value)}")
    raise DataError(f"{path}: line {i + 1}, {where}: {what}." + (truncated_hint if last else ""))


def _unclosed_quote(line: bytes) -> int:
    """Offset of the quote that opens and is never closed on ``line``."""
    inside, opened = False, 0
    for i, byte in enumerate(line):
        if byte == _QUOTE:
            inside = not inside
            if inside:
                opened = i
    return opened


def _nth_sep(line: bytes, n: int, sep: bytes) -> int:
    """Offset of the n-th (1-based) separator outside quotes."""
    seen, inside = 0, False
    for i, byte in enumerate(line):
        if byte == _QUOTE:
            inside = not inside
        elif not inside and line[i:i + 1] == sep:
            seen += 1
            if seen == n:
                return i
    return len(line)
