"""``canyu bench phone``: the phone's figures against a served app (canyu.lab.phone_world).

* call decision on the device from the offline pack: ``Phone.screen(number, online=False)``
  over half labelled and half unknown valid numbers (parsing, rules, pack lookup);
* SMS classification per message on the device with the signed plain-weights model, and the
  model's size;
* a full listen sync (``Phone.sync_all``: pack, SMS model, notices) after a day offline: a day's
  new labels, one new model and notices arrived meanwhile; every byte of every HTTP response
  the phone received (TUF metadata included) and the seconds it took.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import httpx
import numpy as np
import typer

from canyu.commands import JsonFlag, err, fail

SHARED_SMS = Path("../shared/data/sms/SMSSpamCollection")
Progress = Callable[[str], None]


def _numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct valid Chinese mobile numbers (China Mobile's 138/139 blocks)."""
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(f"+86{rng.choice(('138', '139', '150', '186'))}{rng.randrange(10**8):08d}")
    return sorted(seen)


def _sms_corpus(dataset: Path | None) -> tuple[list[str], np.ndarray, str]:
    from canyu.calls import sms

    path = dataset or SHARED_SMS
    if path.exists():
        texts, labels = sms.read_dataset(path)
        return texts, labels, path.name
    rng = random.Random(0)
    spam = ["WINNER! claim your £{n} prize, call 0906{n}", "URGENT your account {n} is locked"]
    ham = ["see you at {n} for lunch", "the bus is late again, {n} minutes"]
    texts, flags = [], []
    for i in range(2000):
        flags.append(i % 5 == 0)
        texts.append(rng.choice(spam if flags[-1] else ham).format(n=rng.randrange(10**4)))
    return texts, np.array(flags, dtype=np.int8), "synthetic"


def _import(world: Any, numbers: list[str], reporters: list[int]) -> None:
    from canyu.calls import service
    from canyu.calls.settings import CallsSettings

    rows = [
        {"number": n, "reporter": str(r), "category": "fraud", "time": str(int(time.time()))}
        for n in numbers
        for r in reporters
    ]
    settings = CallsSettings(min_networks=1, network_cap=100)
    with world.database.session() as session:
        service.import_marks(session, rows=rows, settings=settings)


def _percentiles(seconds: list[float], scale: float) -> tuple[float, float]:
    p50, p99 = np.percentile(np.array(seconds) * scale, [50, 99])
    return round(float(p50), 1), round(float(p99), 3 if scale < 1e4 else 1)


def run(
    *,
    labelled: int,
    daily: int,
    calls: int,
    messages: int,
    dataset: Path | None,
    seed: int,
    progress: Progress,
) -> dict[str, Any]:
    from canyu.client.device import HttpxFetcher
    from canyu.client.phone import Phone
    from canyu.lab.phone_world import PhoneWorld

    rng = random.Random(seed)
    texts, labels, corpus = _sms_corpus(dataset)
    received = [0]

    def count(response: httpx.Response) -> None:
        response.read()
        received[0] += len(response.content) + sum(len(k) + len(v) for k, v in response.headers.raw)

    with PhoneWorld() as world:
        progress("friends and their phones")
        workdir = world.home
        reporters = [world.friend() for _ in range(4)]
        for i, friend in enumerate(reporters):
            world.phone(friend, workdir / f"reporter-{i}")
        owner = world.friend()
        base = _numbers(rng, labelled + daily + calls // 2)
        known, later, unknown = (
            base[:labelled],
            base[labelled : labelled + daily],
            base[-calls // 2 :],
        )
        progress(f"{labelled} labelled numbers, the pack, the SMS model")
        _import(world, known, [r.id for r in reporters])
        world.build_pack("CN")
        world.publish_sms(texts, labels, language="en")
        device = world.phone(owner, workdir / "phone")
        device.client = httpx.Client(timeout=30, event_hooks={"response": [count]})
        http = httpx.Client(base_url=world.url, timeout=30, event_hooks={"response": [count]})
        phone = Phone(device, http=http, fetcher=HttpxFetcher(http))
        first = phone.sync_all()
        if first.parts.get("calls") not in ("full", "delta"):
            raise RuntimeError(f"the phone did not get its pack: {first.parts}")

        progress(f"{calls} call decisions")
        sample = [*rng.sample(known, min(len(known), calls - calls // 2)), *unknown]
        rng.shuffle(sample)
        for number in sample[:200]:  # warm: parsing tables, the pack's chunks
            phone.screen(number, online=False)
        call_times: list[float] = []
        call_cpu: list[float] = []
        blocked = 0
        for number in sample:
            started, cpu = time.perf_counter(), time.thread_time()
            decision = phone.screen(number, online=False)
            call_times.append(time.perf_counter() - started)
            call_cpu.append(time.thread_time() - cpu)
            blocked += decision.action.value == "block"

        progress(f"{messages} SMS classifications")
        model = phone.sms_model()
        model_bytes = (workdir / "phone" / "sms" / "en" / "model.cysms").stat().st_size
        picks = [texts[rng.randrange(len(texts))] for _ in range(messages)]
        for text in picks[:50]:
            model.is_spam(text)
        sms_times: list[float] = []
        sms_cpu: list[float] = []
        for text in picks:
            started, cpu = time.perf_counter(), time.thread_time()
            model.is_spam(text)
            sms_times.append(time.perf_counter() - started)
            sms_cpu.append(time.thread_time() - cpu)

        progress(f"a day offline: {daily} new labels, a new SMS model, notices")
        _import(world, later, [r.id for r in reporters])
        world.build_pack("CN")
        world.publish_sms(texts[: len(texts) * 9 // 10], labels[: len(texts) * 9 // 10])
        post = phone.feedback(title="Battery drains overnight", body="Since the last build.")
        world.ship_fix("1.1.0", [int(post["id"])])
        device.update()  # the fix installs: its notice waits for the next sync
        received[0] = 0
        started = time.perf_counter()
        report = phone.sync_all()
        sync_s = time.perf_counter() - started
        sync_bytes = received[0]
        caught_up = all(phone.screen(n, online=False).action.value == "block" for n in later[:50])
        phone.close()

    call_p50, call_p99 = _percentiles(call_times, 1e6)
    sms_p50, sms_p99 = _percentiles(sms_times, 1e3)
    return {
        "call_p50_us": call_p50,
        "call_p99_us": call_p99,
        # CPU time of the deciding thread: the same work without the time a busy shared
        # machine spends running other processes in the middle of it.
        "call_p99_cpu_us": _percentiles(call_cpu, 1e6)[1],
        "sms_p50_ms": sms_p50,
        "sms_p99_ms": sms_p99,
        "sms_p99_cpu_ms": _percentiles(sms_cpu, 1e3)[1],
        "sms_model_bytes": model_bytes,
        "sync_bytes": sync_bytes,
        "sync_s": round(sync_s, 2),
        "sync_parts": report.parts,
        "caught_up": caught_up,
        "labelled": labelled,
        "daily_labels": daily,
        "calls": len(call_times),
        "blocked": blocked,
        "messages": len(sms_times),
        "sms_corpus": corpus,
    }


def phone(
    labelled: Annotated[int, typer.Option(help="Labelled numbers in the pack.", min=10)] = 20_000,
    daily: Annotated[int, typer.Option(help="New labels during the day offline.", min=1)] = 500,
    calls: Annotated[int, typer.Option(help="Call decisions timed.", min=100)] = 5_000,
    messages: Annotated[int, typer.Option(help="SMS classifications timed.", min=100)] = 2_000,
    dataset: Annotated[
        Path | None,
        typer.Option(help="label<TAB>text SMS file (default: ../shared/data's, else synthetic)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    json_output: JsonFlag = False,
) -> None:
    """The phone on the device: call decisions, SMS classification, a sync after a day offline."""
    if dataset is not None and not dataset.is_file():
        raise fail(f"no such file: {dataset}")
    with err.status("starting") as status:
        figures = run(
            labelled=labelled,
            daily=daily,
            calls=calls,
            messages=messages,
            dataset=dataset,
            seed=seed,
            progress=lambda stage: status.update(stage),
        )
    if json_output:
        typer.echo(json.dumps(figures))
        return
    goals = {
        "call_p99_us": "< 1,000",
        "sms_p99_ms": "< 2",
        "sms_model_bytes": "≤ 2,097,152",
    }
    from rich.console import Console
    from rich.table import Table

    table = Table(title="the phone, on the device")
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    for key, value in figures.items():
        table.add_row(key, str(value), goals.get(key, ""))
    Console().print(table)
