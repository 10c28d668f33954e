"""Cutting a vCard file into cards, as a stream: each card's lines (unfolded), one card at a
time, on its BEGIN:VCARD/END:VCARD lines. Photos, logos, sounds and keys are skipped here without
decoding them (a broken one is noted); a vCard 2.1 AGENT's own card inside a card is skipped.
A file that is not vCard is Invalid; a card that is never closed raises NeverClosed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

from crmcli.errors import Invalid

_BLOB = re.compile(rb"(?i)^(?:[A-Za-z0-9_-]+\.)?(PHOTO|LOGO|SOUND|KEY)[;:]")
_B64_LINE = re.compile(rb"[A-Za-z0-9+/=\s]*")
_BEGIN, _END = b"BEGIN:VCARD", b"END:VCARD"
_AGENT = re.compile(rb"(?i)^(?:[A-Za-z0-9_-]+\.)?AGENT[;:]")

_UTF16_32 = (
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
    (b"B\x00E\x00", "utf-16-le"),  # UTF-16 without a BOM, as some Windows tools write it
    (b"\x00B\x00E", "utf-16-be"),
)
_BLANK = b" \t\x0b\x0c\x1a"  # and DOS's end-of-file mark after the last card


class NeverClosed(Exception):
    """A card without END:VCARD (the file ended, or the next card began)."""

    def __init__(self, card: Card):
        super().__init__(card.number)
        self.card = card


class Card:
    """The lines of one card as read from the file (bytes, or str for UTF-16/32 files)."""

    __slots__ = ("number", "line", "lines", "damaged", "raw")

    def __init__(self, number: int, line: int):
        self.number = number
        self.line = line
        self.lines: list[Any] = []
        self.damaged: list[str] = []  # skipped properties whose data was broken
        self.raw: list[Any] | None = None  # every line as it came, when asked to keep them

    def original(self) -> bytes:
        """The card as it was in the file (photos and all; lines end in CRLF; a UTF-16/32
        file's card in UTF-8): what a rejects file gives back to be fixed."""
        lines = self.raw or []
        return b"".join((ln.encode("utf-8") if isinstance(ln, str) else ln) + b"\r\n"
                        for ln in lines)  # fmt: skip

    def text(self) -> str:
        if not self.lines or isinstance(self.lines[0], str):
            return "\n".join(self.lines)
        data = b"\n".join(self.lines)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            # Not UTF-8 as a whole: each line by the fixed rules (a card mixing a UTF-8
            # property with cp1252 ones, as old Outlook writes, comes out right).
            return "\n".join(decode_line(line) for line in self.lines)


def decode_line(data: bytes) -> str:
    """Bytes by the fixed rules: strict UTF-8, else cp1252."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


class _Blob:
    """Follows a skipped PHOTO/LOGO/SOUND/KEY value just far enough to tell a broken one."""

    def __init__(self, first: bytes):
        head, _, value = first.partition(b":")
        self.name = _BLOB.match(first)[1].decode().upper()  # type: ignore[index]
        params = head.upper()
        inline = value.lower().startswith(b"data:") and b";base64," in value.lower()
        self.base64 = inline or bool(re.search(rb";(ENCODING=)?(B|BASE64)(;|$)", params))
        if inline:
            value = value.split(b",", 1)[1]
        self.size = 0
        self.ok = True
        self.padded = False  # base64 ends with its padding: nothing may follow
        self.add(value)

    def add(self, chunk: bytes) -> None:
        if not (self.base64 and self.ok):
            return
        chunk = b"".join(chunk.split())
        if not chunk:
            return
        if self.padded or not _B64_LINE.fullmatch(chunk) or b"=" in chunk.rstrip(b"="):
            self.ok = False
        self.padded = chunk.endswith(b"=")
        self.size += len(chunk)

    def broken(self) -> bool:
        return self.base64 and (not self.ok or self.size % 4 != 0 or self.size == 0)


def _physical_lines(stream: IO[bytes]) -> Iterator[Any]:
    """The file's lines, without line ends: bytes, or str when a BOM says UTF-16/32."""
    head = stream.read(4)
    for bom, encoding in _UTF16_32:
        if head.startswith(bom):
            # Rare (some Windows tools) and small: read whole.
            text = (head + stream.read()).decode(encoding, "replace")
            yield from text.lstrip("\ufeff").splitlines()
            return
    first = head + stream.readline()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:]
    # The four bytes read ahead may end a short first line: "\n  \n" is two lines.
    parts = first.split(b"\n")
    if parts[-1] == b"":
        parts.pop()
    for part in parts:
        yield part.rstrip(b"\r\n")
    for line in stream:
        yield line.rstrip(b"\r\n")


# A card's text without its photos: far more than any address card, little enough to parse.
MAX_CARD = 16 * 2**20


def cards(stream: IO[bytes], label: str, *, keep_text: bool = False) -> Iterator[Card]:
    """Cut a stream into cards on BEGIN:VCARD/END:VCARD lines, skipping blobs; `label` names
    the file in errors. `keep_text`: each card also keeps its lines as they came (raw)."""
    card: Card | None = None
    blob: _Blob | None = None
    depth = 0  # inside a vCard 2.1 AGENT's own card
    agent_open = False
    qp_open = False  # the last line ended in a quoted-printable soft line break
    number = 0
    # Folded continuations of the card's last line, joined once it is complete: adding each
    # to the line as it came made one long folded value quadratic (80,000 folds took 6 s).
    folds: list[Any] = []
    size = 0  # bytes of the card kept so far (blobs are skipped, not kept)

    def unfold() -> None:
        if folds and card is not None:
            card.lines[-1] = card.lines[-1][:0].join([card.lines[-1], *folds])
            folds.clear()

    for n, raw in enumerate(_physical_lines(stream), 1):
        line: bytes = raw.encode("utf-8") if isinstance(raw, str) else raw
        if b"\x00" in line:
            raise Invalid(None, f"{label}: binary data on line {n}: this is not a vCard file")
        key = line.strip().upper() if len(line) < 200 else b""
        if card is None:
            if not key:
                if line.strip(_BLANK):
                    raise _not_vcard(label, n, number)
                continue
            if key == _BEGIN:
                number += 1
                card = Card(number, n)
                if keep_text:
                    card.raw = [raw]
                continue
            if not line.strip(_BLANK):
                continue
            raise _not_vcard(label, n, number)
        if card.raw is not None:
            card.raw.append(raw)
        if blob is not None:
            if line[:1] in (b" ", b"\t") or (line.strip() and b":" not in line):
                blob.add(line)
                continue
            if blob.broken():
                card.damaged.append(blob.name)
            blob = None
            if not line.strip():
                continue
        if key == _END:
            if depth:
                depth -= 1
                continue
            unfold()
            yield card
            card = None
            size = 0
            qp_open = False
            continue
        if key == _BEGIN:
            if agent_open:
                depth += 1
                agent_open = False
                continue
            raise NeverClosed(card)
        if depth:
            continue
        if qp_open:
            # After a quoted-printable soft line break (`=` at the end) the next line goes
            # on with the value, whatever it looks like; an indent there is folding.
            unfold()
            card.lines.append(raw[1:] if line[:1] in (b" ", b"\t") else raw)
            qp_open = line.rstrip().endswith(b"=")
            continue
        if _BLOB.match(line):
            blob = _Blob(line)
            continue
        size += len(line)
        if size > MAX_CARD:
            raise Invalid(
                None, f"{label}: card {card.number} (line {card.line}) is larger than "
                f"{MAX_CARD // 2**20} MiB without its photos: this is not an address card",
            )  # fmt: skip
        if line[:1] in (b" ", b"\t") and card.lines:
            # Unfolded before decoding: writers that fold inside a UTF-8 character
            # (counting octets, not characters) still give whole characters.
            folds.append(raw[1:])
            continue
        unfold()
        agent_open = bool(_AGENT.match(line)) and line.rstrip().endswith(b":")
        qp_open = line.rstrip().endswith(b"=") and b"QUOTED-PRINTABLE" in _head(line)
        card.lines.append(raw)
    if card is not None:
        raise NeverClosed(card)


def _head(line: bytes) -> bytes:
    """A content line's name and parameters, upper-cased."""
    return line.split(b":", 1)[0].upper()


def _not_vcard(label: str, n: int, cards_before: int) -> Invalid:
    if cards_before:
        return Invalid(None, f"{label}: line {n} is outside of any card (no BEGIN:VCARD before it)")
    return Invalid(None, f"{label}: not a vCard file (line {n} is not BEGIN:VCARD)")
