"""The greeting pack codec (shared by server and phone): round trips, size, malformed input."""

from __future__ import annotations

import contextlib
import random
from datetime import date

import pytest

from canyu.greetings import pack as pack_mod
from canyu.greetings import service
from canyu.greetings.pack import PackError, decode, fill


def sample(greetings: int = 20, country: str = "CN", language: str = "zh") -> pack_mod.GreetingPack:
    texts = [
        "{name}，新春快乐！愿你在新的一年里身体健康，万事如意，阖家幸福，心想事成。",
        "Wishing you and your family a joyful festival, {name}: health, luck and laughter!",
    ]
    festivals = [
        f.key
        for f in service.make_pack(
            country, language, start=date(2027, 1, 1), days=366, greetings={}
        ).festivals
    ]
    per: dict[str, list[tuple[str, str]]] = {}
    for n in range(greetings):
        key = festivals[n % len(festivals)]
        per.setdefault(key, []).append((f"{texts[n % 2]} #{n}", f"Friend {n}"))
    return service.make_pack(
        country, language, start=date(2027, 1, 1), days=366, greetings=per, version=3, created=1
    )


def test_round_trip_and_lookup() -> None:
    pack = sample()
    back = decode(pack.encode())
    assert back == pack
    spring = back.due(date(2027, 2, 6))
    assert [d.festival.key for d in spring] == ["spring_festival"]
    assert spring[0].festival.name == "春节"
    assert spring[0].greetings
    assert back.due(date(2027, 2, 7)) == []
    assert back.covers(date(2027, 12, 31))
    assert not back.covers(date(2028, 1, 2))


def test_twenty_greetings_fit_in_8_kb() -> None:
    data = sample(20).encode()
    assert len(data) <= 8 * 1024, len(data)


def test_malformed_packs_raise_pack_error_only() -> None:
    data = sample(5).encode()
    rng = random.Random(7)
    for cut in range(len(data)):
        with pytest.raises(PackError):
            decode(data[:cut])
    for _ in range(300):
        mutated = bytearray(data)
        mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        with contextlib.suppress(PackError):
            decode(bytes(mutated))
    with pytest.raises(PackError):
        decode(b"XXXX" + data[4:])


def test_fill_puts_the_name_in_or_leaves_it_out() -> None:
    assert fill("{name}，新春快乐！", "小明") == "小明，新春快乐！"
    assert fill("{name}，新春快乐！", None) == "新春快乐！"
    assert fill("Happy Diwali, {name}!", None) == "Happy Diwali!"
    assert fill("Happy Diwali, {name}!", "Asha") == "Happy Diwali, Asha!"
    assert fill("Merry Christmas", "Sam") == "Merry Christmas"


def test_twenty_greetings_at_the_length_limit_fit_in_8_kb() -> None:
    """The worst case: 20 greetings of random Chinese characters (which hardly compress), each
    as long as a greeting may be."""
    rng = random.Random(1)
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    longest = {
        f"k{n}": [("".join(rng.choice(han) for _ in range(service.MAX_TEXT)), f"Friend {n}")]
        for n in range(20)
    }
    pack = pack_mod.GreetingPack("CN", "zh", 1, 0, date(2027, 1, 1), 366)
    for n in range(20):
        pack.festivals.append(pack_mod.PackFestival(date(2027, 1, 1 + n), f"k{n}", f"节日{n}"))
        text, author = longest[f"k{n}"][0]
        pack.greetings.append(pack_mod.PackGreeting(n, text, author))
    assert len(pack.encode()) <= 8 * 1024
