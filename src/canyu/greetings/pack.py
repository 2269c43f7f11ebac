"""The greeting pack: a compact signed-by-TUF file of one country's festivals and the friends'
greetings for them in one language, shared by the server (which builds it) and the phone (which
reads it offline). Pure: no database, no HTTP, no third-party imports.

Layout (all integers little-endian; ``str`` is a varint length and UTF-8 bytes)::

    b"CYG1"  u8 format  2s country  u8 len + language  u32 version  u32 created (unix s)
    u32 first day (days since 1970-01-01)  u16 days covered
    zlib( varint festivals { varint day offset, str key, str name }
          varint greetings { varint festival index, str text, str author } )

A festival starts at local midnight: the phone asks :meth:`GreetingPack.due` with the date in
its own time zone, and gets the greetings of the festivals on that date.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

MAGIC = b"CYG1"
FORMAT = 1
EPOCH = date(1970, 1, 1)
_HEAD = struct.Struct("<4sB2sB")
_TAIL = struct.Struct("<IIIH")
MAX_PACK_BYTES = 1 << 20
NAME_PLACEHOLDER = "{name}"


class PackError(ValueError):
    """A pack that is malformed, truncated or of another format."""


@dataclass(frozen=True)
class PackFestival:
    date: date
    key: str
    name: str


@dataclass(frozen=True)
class PackGreeting:
    festival: int  # index into festivals
    text: str
    author: str


@dataclass(frozen=True)
class Due:
    festival: PackFestival
    greetings: tuple[PackGreeting, ...]


@dataclass
class GreetingPack:
    country: str
    language: str
    version: int
    created: int
    first_day: date
    days: int
    festivals: list[PackFestival] = field(default_factory=list)
    greetings: list[PackGreeting] = field(default_factory=list)

    @property
    def last_day(self) -> date:
        return self.first_day + timedelta(days=self.days - 1)

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def due(self, day: date) -> list[Due]:
        """The festivals on ``day`` (a local date) with their greetings, best first."""
        out = []
        for index, festival in enumerate(self.festivals):
            if festival.date == day:
                found = tuple(g for g in self.greetings if g.festival == index)
                out.append(Due(festival, found))
        return out

    def encode(self) -> bytes:
        if len(self.country) != 2 or not self.country.isascii():
            raise PackError(f"bad country {self.country!r}")
        language = self.language.encode()
        if not 1 <= len(language) <= 16:
            raise PackError(f"bad language {self.language!r}")
        if not 1 <= self.days <= 0xFFFF:
            raise PackError("a pack covers 1 to 65535 days")
        body = bytearray()
        _varint(body, len(self.festivals))
        for festival in self.festivals:
            offset = (festival.date - self.first_day).days
            if not 0 <= offset < self.days:
                raise PackError(f"{festival.key} on {festival.date} is outside the pack's days")
            _varint(body, offset)
            _string(body, festival.key)
            _string(body, festival.name)
        _varint(body, len(self.greetings))
        for greeting in self.greetings:
            if not 0 <= greeting.festival < len(self.festivals):
                raise PackError("a greeting names no festival of the pack")
            _varint(body, greeting.festival)
            _string(body, greeting.text)
            _string(body, greeting.author)
        head = _HEAD.pack(MAGIC, FORMAT, self.country.encode(), len(language)) + language
        tail = _TAIL.pack(self.version, self.created, (self.first_day - EPOCH).days, self.days)
        return head + tail + zlib.compress(bytes(body), 9)


def decode(data: bytes) -> GreetingPack:
    """Parse a pack; raises PackError for anything malformed (never a partial pack)."""
    if len(data) > MAX_PACK_BYTES:
        raise PackError("pack too large")
    try:
        magic, fmt, country, language_len = _HEAD.unpack_from(data, 0)
        if magic != MAGIC:
            raise PackError("not a greeting pack")
        if fmt != FORMAT:
            raise PackError(f"unknown pack format {fmt}")
        at = _HEAD.size
        language = data[at : at + language_len].decode()
        at += language_len
        version, created, first, days = _TAIL.unpack_from(data, at)
        at += _TAIL.size
        body = zlib.decompress(data[at:], bufsize=64 * 1024)
        if len(body) > 4 * MAX_PACK_BYTES:
            raise PackError("pack body too large")
        first_day = EPOCH + timedelta(days=first)
        pos = 0
        count, pos = _read_varint(body, pos)
        festivals = []
        for _ in range(count):
            offset, pos = _read_varint(body, pos)
            key, pos = _read_string(body, pos)
            name, pos = _read_string(body, pos)
            if offset >= days:
                raise PackError("festival outside the pack's days")
            festivals.append(PackFestival(first_day + timedelta(days=offset), key, name))
        count, pos = _read_varint(body, pos)
        greetings = []
        for _ in range(count):
            index, pos = _read_varint(body, pos)
            text, pos = _read_string(body, pos)
            author, pos = _read_string(body, pos)
            if index >= len(festivals):
                raise PackError("greeting names no festival")
            greetings.append(PackGreeting(index, text, author))
        if pos != len(body):
            raise PackError("trailing bytes")
        return GreetingPack(
            country.decode(), language, version, created, first_day, days, festivals, greetings
        )
    except PackError:
        raise
    except (struct.error, zlib.error, UnicodeDecodeError, IndexError, OverflowError) as exc:
        raise PackError(f"malformed pack: {exc}") from None


def fill(text: str, name: str | None) -> str:
    """A greeting with the recipient's name put in (a template says where with ``{name}``);
    without a name, the placeholder and the space or comma before it go."""
    if NAME_PLACEHOLDER not in text:
        return text
    if name:
        return text.replace(NAME_PLACEHOLDER, name.strip())
    # "Happy Diwali, {name}!" -> "Happy Diwali!"; "{name}，新春快乐！" -> "新春快乐！"
    for joint in (", ", "，", " "):
        text = text.replace(joint + NAME_PLACEHOLDER, "").replace(NAME_PLACEHOLDER + joint, "")
    for joint in (",", "、", "："):
        text = text.replace(NAME_PLACEHOLDER + joint, "")
    return text.replace(NAME_PLACEHOLDER, "").strip()


def _varint(out: bytearray, value: int) -> None:
    if value < 0:
        raise PackError("negative varint")
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _string(out: bytearray, value: str) -> None:
    raw = value.encode()
    _varint(out, len(raw))
    out += raw


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 35:
            raise PackError("truncated or oversized varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _read_string(data: bytes, pos: int) -> tuple[str, int]:
    length, pos = _read_varint(data, pos)
    if pos + length > len(data):
        raise PackError("truncated string")
    return data[pos : pos + length].decode(), pos + length
