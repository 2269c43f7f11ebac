"""What a simulated fleet's phones do besides updating (``canyu device simulate``): friends mark
the spam numbers that called them from their phones, phones screen incoming calls with the
private lookup (a hash prefix, never the number), and some owners send feedback from the device
after the similar-posts check. All over the HTTP API, with device tokens, like real phones."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import httpx

from canyu.calls.reputation import BLOCKING, Category


class FleetPhone(Protocol):
    token: str
    owner_token: str | None


@dataclass
class Services:
    spam_numbers: int = 0
    marks: int = 0
    labelled: int = 0  # spam numbers the crowd labelled
    calls: int = 0
    intercepted: int = 0  # spam calls the lookup caught
    spam_calls: int = 0
    feedback: int = 0
    similar_shown: int = 0  # feedback attempts that were shown similar posts first
    errors: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 1)
        return data


def _numbers(rng: random.Random, count: int) -> list[str]:
    return [f"+86139{rng.randrange(10**8):08d}" for _ in range(count)]


async def phone_services(
    client: httpx.AsyncClient,
    phones: Sequence[FleetPhone],
    rng: random.Random,
    *,
    spam_numbers: int = 10,
    marks_per_number: int = 6,
    calls: int = 200,
    feedback: int = 10,
    concurrency: int = 4,
) -> Services:
    started = time.perf_counter()
    out = Services(spam_numbers=spam_numbers)
    owned = [p for p in phones if p.owner_token]
    if not owned:
        return out
    spam = _numbers(rng, spam_numbers)
    semaphore = asyncio.Semaphore(concurrency)

    async def send(method: str, path: str, token: str, **kwargs: Any) -> httpx.Response | None:
        async with semaphore:
            response = await client.request(
                method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs
            )
        if response.status_code >= 400:
            out.errors += 1
            return None
        return response

    async def mark(number: str, phone: FleetPhone) -> None:
        category = rng.choice([c.value for c in BLOCKING])
        found = await send(
            "POST",
            "/api/v1/calls/marks",
            phone.token,
            json={"number": number, "category": category},
        )
        out.marks += found is not None

    await asyncio.gather(
        *(
            mark(number, phone)
            for number in spam
            for phone in rng.sample(owned, min(marks_per_number, len(owned)))
        )
    )

    async def lookup(number: str, token: str) -> tuple[bool, dict[str, Any] | None]:
        """(answered?, the entry for the number): the phone's private lookup."""
        params = await send("GET", "/api/v1/calls/lookup", token)
        if params is None:
            return False, None
        digest = hashlib.sha256(number.encode()).hexdigest()
        prefix = digest[: params.json()["prefix_length"]]
        bucket = await send("GET", f"/api/v1/calls/lookup/{prefix}", token)
        if bucket is None:
            return False, None
        return True, next((e for e in bucket.json()["entries"] if e["hash"] == digest), None)

    async def screen(phone: FleetPhone) -> None:
        is_spam = rng.random() < 0.5
        number = rng.choice(spam) if is_spam else _numbers(rng, 1)[0]
        answered, hit = await lookup(number, phone.token)
        if not answered:
            return
        out.calls += 1
        out.spam_calls += is_spam
        out.intercepted += hit is not None and Category(hit["category"]) in BLOCKING

    await asyncio.gather(*(screen(rng.choice(phones)) for _ in range(calls)))

    async def post(phone: FleetPhone, i: int) -> None:
        title = rng.choice(["Battery drains overnight", "Camera app freezes", "Wi-Fi drops"])
        similar = await send(
            "GET", "/api/v1/feedback/similar", phone.token, params={"q": title, "k": 3}
        )
        out.similar_shown += bool(similar is not None and similar.json())
        body = {"title": f"{title} ({i})", "body": "Seen on the simulated phone.", "log": "ok"}
        # Await first: "out.feedback += await ..." would read the count before the await and
        # lose the other coroutines' additions.
        made = await send("POST", "/api/v1/devices/feedback", phone.token, json=body)
        out.feedback += made is not None

    await asyncio.gather(*(post(rng.choice(owned), i) for i in range(feedback)))
    for number in spam:
        _answered, hit = await lookup(number, owned[0].token)
        out.labelled += hit is not None
    out.seconds = time.perf_counter() - started
    return out
