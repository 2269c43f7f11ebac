"""The lab's commands: every ``canyu bench ...`` and ``canyu device simulate``.

Benchmarks, load generators and simulators live here, outside the domains: a domain never
imports the lab, and the composition root (canyu.cli) adds these commands beside the domains'.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from canyu.commands import JsonFlag, err, fail
from canyu.progress import staged

out = Console(width=None if sys.stdout.isatty() else 160)


# --- calls -------------------------------------------------------------------------------


def bench_abuse(
    small: Annotated[bool, typer.Option(help="The small run the test suite uses.")] = False,
    json_output: JsonFlag = False,
) -> None:
    """Anti-abuse simulation: one network of fresh accounts, and 10% malicious reporters."""
    from dataclasses import replace

    from canyu.lab import abuse_sim

    config = abuse_sim.SMALL if small else abuse_sim.CrowdConfig()
    labelled, score = abuse_sim.one_network(50)
    with err.status("simulating the crowd"):
        result = abuse_sim.crowd(config)
        heavy = abuse_sim.crowd(replace(config, marks_per_malicious=100))
    out = {
        "one_network": {"sybils": 50, "labelled": labelled, "score": score},
        "crowd": result.as_dict(),
        "crowd_malicious_100_marks_each": heavy.as_dict(),
        "goals": {
            "one_network_not_labelled": not labelled,
            "legit_labelled_share_max": 0.001,
            "many_recall_min": 0.95,
            "met": (not labelled)
            and result.legit_labelled_share <= 0.001
            and result.many_recall >= 0.95,
        },
    }
    if json_output:
        typer.echo(json.dumps(out))
        return
    console = Console()
    console.print(
        f"one network: 50 fresh accounts mark a business number -> "
        f"{'LABELLED' if labelled else 'not labelled'} (evidence {score:.2f}, label at 3.0)"
    )
    table = Table(title=f"crowd: {result.reporters} reporters, {result.malicious} malicious")
    for column in (
        "scenario",
        "marks",
        "legit labelled",
        "share",
        "of marked legit",
        f"spam with >= {config.many} honest",
        "labelled",
        "recall",
    ):
        table.add_column(column, justify="right")
    for name, r in (("30 marks/malicious", result), ("100 marks/malicious", heavy)):
        table.add_row(
            name,
            str(r.marks),
            f"{r.legit_labelled}/{r.config.legit_numbers}",
            f"{r.legit_labelled_share:.4%}",
            f"{r.legit_marked_labelled_share:.4%}",
            str(r.spam_many),
            str(r.spam_many_labelled),
            f"{r.many_recall:.3f}",
        )
    console.print(table)
    reach = ", ".join(f"{k}: {a}/{b}" for k, (a, b) in result.recall_by_reach.items())
    console.print(f"labelled spam numbers by honest reach: {reach}")


def bench_pack(
    count: Annotated[
        int, typer.Option("--numbers", help="Labelled numbers in the pack.")
    ] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
    clustered: Annotated[
        float, typer.Option(help="Share of numbers in hot operator blocks.")
    ] = 0.6,
    json_output: JsonFlag = False,
) -> None:
    """Pack size (bits per number incl. category), build time, a day's delta, device lookups."""
    from canyu.lab.calls import pack_figures

    if not 1 <= count <= 20_000_000:
        raise fail("--numbers must be between 1 and 20,000,000")
    if not 0 <= clustered <= 1:
        raise fail("--clustered must be between 0 and 1")
    with err.status(f"building a pack of {count:,} numbers"):
        figures = pack_figures(count, seed=seed, clustered=clustered)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title=f"offline pack, {count:,} labelled CN mobile numbers")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("goal")
    goals = {"bits_per_number": "<= 16", "delta_share": "< 5%", "lookup_us": "< 1000"}
    for key, value in figures.items():
        shown = f"{value:.4f}" if isinstance(value, float) else str(value)
        table.add_row(key, shown, goals.get(key, ""))
    Console().print(table)


def bench_calls_feed(
    train: Annotated[list[Path], typer.Option("--train", help="Training days (ftc-json files).")],
    test: Annotated[Path, typer.Option("--test", help="The day to test on (ftc-json).")],
    random_numbers: Annotated[
        int, typer.Option("--random", help="Random valid numbers the cost is measured on.")
    ] = 100_000,
    json_output: JsonFlag = False,
) -> None:
    """Complaint feeds back-tested: share of the test day's complaints blocked or warned on,
    share of random valid numbers flagged, pack and delta size; the parent's rules beside."""
    from canyu.calls.settings import get_calls_settings
    from canyu.lab.calls_feed import feed_figures

    missing = [str(p) for p in [*train, test] if not p.is_file()]
    if missing:
        raise fail(f"no such file: {', '.join(missing)}")
    if not 1_000 <= random_numbers <= 1_000_000:
        raise fail("--random must be between 1,000 and 1,000,000")
    with err.status("reading the days, building packs, probing random numbers"):
        try:
            figures = feed_figures(
                train, test, settings=get_calls_settings(), random_numbers=random_numbers
            )
        except ValueError as exc:
            raise fail(str(exc)) from None
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title=f"complaint feeds, zone {figures['zone']}: train {len(train)} days")
    for column, justify in (("figure", "left"), ("parent", "right"), ("this", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    table.add_column("goal")
    goals = {"intercepted_share": ">= 0.20", "random_flagged_share": "<= 0.0005"}
    for key, value in figures["parent"].items():
        mine = figures[key]
        shown = [f"{v:.4f}" if isinstance(v, float) else str(v) for v in (value, mine)]
        table.add_row(key, *shown, goals.get(key, ""))
    Console().print(table)


def bench_sms(
    dataset: Annotated[Path, typer.Option("--dataset", help="label<TAB>text file.")],
    folds: Annotated[int, typer.Option(help="Stratified cross-validation folds.")] = 5,
    target_fpr: Annotated[float, typer.Option(help="Ham FPR the threshold aims for.")] = 0.005,
    seed: Annotated[int, typer.Option(help="Seed of the fold split.")] = 0,
    baseline: Annotated[bool, typer.Option(help="Also run the plain char n-gram LR.")] = True,
    heldout: Annotated[
        Path | None,
        typer.Option(
            help="Messages in another language: the model trained and calibrated on the whole "
            "--dataset is measured on them, threshold unchanged."
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """Precision, recall, F1 and ham false-positive rate by stratified cross-validation."""
    import time

    from canyu.calls import sms

    try:
        texts, labels = sms.read_dataset(dataset)
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    if not 2 <= folds <= 20:
        raise fail("--folds must be between 2 and 20")
    started = time.perf_counter()
    with err.status(f"{folds}-fold cross-validation on {len(texts)} messages"):
        results = sms.evaluate(
            texts, labels, folds=folds, seed=seed, target_fpr=target_fpr, baseline=baseline
        )
    model = results["model"]
    out: dict[str, object] = {
        **{k: v for k, v in model.as_dict().items()},
        "messages": len(texts),
        "spam": int(labels.sum()),
        "folds": folds,
        "target_fpr": target_fpr,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 1),
        "variants": {name: m.as_dict() for name, m in results.items() if name != "model"},
    }
    if heldout is not None:
        try:
            other_texts, other_labels = sms.read_dataset(heldout)
        except (OSError, ValueError) as exc:
            raise fail(str(exc)) from None
        with err.status(f"training on all of {dataset.name}, measuring on {heldout.name}"):
            model_all = sms.train(texts, labels, target_fpr=target_fpr, seed=seed)
            held = sms.heldout(model_all, other_texts, other_labels)
        out["heldout"] = {"file": heldout.name, "messages": len(other_texts), **held.as_dict()}
        results = {**results, "heldout": held}
    if json_output:
        typer.echo(json.dumps(out))
        return
    table = Table(title=f"SMS spam, {dataset.name}: {len(texts)} messages, {folds}-fold CV")
    for column in ("model", "precision", "recall", "F1", "ham FPR", "FP", "FN"):
        table.add_column(column, justify="right")
    names = {
        "model": f"hashed char_wb+word SVM, threshold at {target_fpr:.1%} FPR",
        "svm_default": "same SVM, threshold 0",
        "baseline": "char 1-5 LR, threshold 0 (floor)",
        "heldout": f"held-out language ({heldout.name if heldout else ''}), same threshold",
    }
    for name, m in results.items():
        table.add_row(
            names[name],
            f"{m.precision:.4f}",
            f"{m.recall:.4f}",
            f"{m.f1:.4f}",
            f"{m.ham_fpr:.4%}",
            str(m.fp),
            str(m.fn),
        )
    Console().print(table)


def bench_replay(
    marks: Annotated[
        int, typer.Option("--marks", help="Marks to send through the API.")
    ] = 1_000_000,
    friends: Annotated[int, typer.Option(help="Distinct friends sending them.")] = 20_000,
    concurrency: Annotated[int, typer.Option(help="Client threads.")] = 8,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    pack_interval: Annotated[
        float, typer.Option(help="Pack schedule in minutes (default: the settings').")
    ] = 0.0,
    max_minutes: Annotated[float, typer.Option(help="Stop sending after this long.")] = 30.0,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="SQLAlchemy URL of an empty database; default: a new SQLite."
        ),
    ] = None,
    ratelimit_storage_url: Annotated[
        str,
        typer.Option(
            "--ratelimit-storage-url",
            help="The server's rate-limit storage: memory:// or redis://.",
        ),
    ] = "memory://",
    json_output: JsonFlag = False,
) -> None:
    """Replay marks through the HTTP API on 127.0.0.1: throughput, and the time from the mark
    that tips a number over its threshold to the number being in a published pack."""
    from canyu.lab.calls import ReplayConfig, replay

    if not 1 <= marks <= 10_000_000 or not 1 <= friends <= 1_000_000:
        raise fail("--marks must be 1..10,000,000 and --friends 1..1,000,000")
    if not 1 <= concurrency <= 64 or not 1 <= workers <= 8:
        raise fail("--concurrency must be 1..64 and --workers 1..8")
    config = ReplayConfig(
        marks=marks,
        friends=friends,
        concurrency=concurrency,
        workers=workers,
        pack_interval_minutes=pack_interval or None,
        max_minutes=max_minutes,
        database_url=database_url,
        ratelimit_storage_url=ratelimit_storage_url,
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total, rate="")
            task = tasks[stage]
            progress.update(task, completed=done, total=total)
            speed = next(t.speed for t in progress.tasks if t.id == task)
            if stage == "marks" and speed:
                progress.update(task, rate=f"{speed:,.0f} marks/s")

        figures = replay(config, progress=report)
    if json_output:
        typer.echo(json.dumps(figures))
        return
    table = Table(title="replay of marks through the HTTP API")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key, f"{value:.2f}" if isinstance(value, float) else str(value))
    Console().print(table)


# --- devices: a simulated fleet --------------------------------------------------------------


def _weights(text: str, what: str) -> dict[str, float]:
    weights: dict[str, float] = {}
    for part in text.split(","):
        name, _, weight = part.strip().partition(":")
        try:
            weights[name.strip()] = float(weight) if weight else 1.0
        except ValueError:
            raise fail(f"bad {what} weight in {part!r}; use NAME:WEIGHT,...") from None
    return weights


def simulate(
    devices: Annotated[int, typer.Option(help="Simulated phones.", min=10, max=2_000_000)] = 10_000,
    countries: Annotated[str, typer.Option(help="COUNTRY:weight,...")] = "CN:4,IN:3,ID:1,ES:1,US:1",
    channels: Annotated[
        str, typer.Option(help="CHANNEL:weight,...")
    ] = "stable:16,beta:3,developer:1",
    bad_install_rate: Annotated[
        float, typer.Option(help="Install failures of the bad build.")
    ] = 0.30,
    bad_feedback_rate: Annotated[
        float, typer.Option(help="Posts per install, feedback-bad build.")
    ] = 0.08,
    good_feedback_rate: Annotated[
        float, typer.Option(help="Posts per install, good builds.")
    ] = 0.004,
    good_failure_rate: Annotated[
        float, typer.Option(help="Install failures of good builds.")
    ] = 0.005,
    concurrency: Annotated[int, typer.Option(help="Requests in flight.", min=1, max=512)] = 4,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    until_installed: Annotated[
        bool,
        typer.Option(help="After a rollout completes, poll until every phone runs the build."),
    ] = False,
    bulk_register: Annotated[
        bool,
        typer.Option(help="Load the registry with bulk inserts instead of one POST per phone."),
    ] = False,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Default: a fresh SQLite file.")
    ] = None,
    iot_devices: Annotated[
        int, typer.Option(help="Small devices (MQTT) paired with the phones' owners.", min=0)
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
) -> None:
    """Drive a fleet against a server of its own: a good build, one bad by install failures,
    one bad only by the feedback it draws, another good one. Prints how far each got."""
    from dataclasses import asdict

    from canyu.lab.fleet import BuildSpec, FleetRun, FleetSpec

    builds = (
        BuildSpec("2.0.0", "good (baseline)", good_failure_rate, good_feedback_rate),
        BuildSpec("2.0.1", "bad: install failures", bad_install_rate, good_feedback_rate),
        BuildSpec(
            "2.0.2", "bad: feedback only", good_failure_rate, bad_feedback_rate, after="rollback"
        ),
        BuildSpec("2.0.3", "good", good_failure_rate, good_feedback_rate),
    )
    spec = FleetSpec(
        devices=devices,
        countries=_weights(countries, "country"),
        channels=_weights(channels, "channel"),
        concurrency=concurrency,
        builds=builds,
        seed=seed,
        register="bulk" if bulk_register else "http",
        until_installed=until_installed,
        iot_devices=iot_devices,
    )
    with staged(err) as report:
        result = FleetRun(spec, database_url=database_url, progress=report).run()
    rows: list[dict[str, Any]] = [
        {
            "version": o.spec.version,
            "build": o.spec.label,
            "status": o.status,
            "stage_percent": o.percent,
            "exposed_devices": o.exposed,
            "exposed_share": round(o.exposed_share(result.fleet), 5),
            "installed": o.installed,
            "failed": o.failed,
            "crashes": o.crashes,
            "feedback_posts": o.feedback,
            "rolled_back": o.rolled_back,
            "rounds": o.rounds,
            "checkins": o.checkins,
            "seconds": round(o.seconds, 1),
            "reason": o.reason,
        }
        for o in result.outcomes
    ]
    summary = {
        "devices": result.fleet,
        "register_seconds": round(result.register_seconds, 1),
        "builds": rows,
        "phones": result.services,
        "iot": asdict(result.iot) if result.iot else None,
    }
    if as_json:
        out.print_json(json.dumps(summary))
        return
    table = Table(title=f"fleet of {result.fleet} simulated phones")
    for column in (
        "build",
        "status",
        "stage",
        "exposed",
        "installed",
        "failed",
        "crashes",
        "posts",
        "rounds",
        "s",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            f"{r['version']} {r['build']}",
            str(r["status"]),
            f"{r['stage_percent']:g}%",
            f"{r['exposed_devices']} ({100 * float(r['exposed_share']):.2f}%)",
            str(r["installed"]),
            str(r["failed"]),
            str(r["crashes"]),
            str(r["feedback_posts"]),
            str(r["rounds"]),
            str(r["seconds"]),
        )
    out.print(table)
    for r in rows:
        if r["reason"]:
            out.print(f"{r['version']}: {r['reason']}")
        if r["rolled_back"]:
            out.print(
                f"{r['version']}: {r['rolled_back']} devices rolled back to the previous build"
            )
    out.print(f"registered {result.fleet} devices in {summary['register_seconds']} s")
    if result.services:
        p = result.services
        out.print(
            f"phones: {p['marks']} marks labelled {p['labelled']}/{p['spam_numbers']} numbers; "
            f"{p['intercepted']}/{p['spam_calls']} spam calls intercepted in {p['calls']} "
            f"screened; {p['feedback']} feedback posts ({p['similar_shown']} shown similar first)"
        )
    if result.iot and result.iot.devices:
        i = result.iot
        out.print(
            f"small devices: {i.paired}/{i.devices} paired, {i.commands_followed}/"
            f"{i.commands_sent} commands followed, {i.stored_state_on} stored as on"
        )


def register(bench_app: typer.Typer, device_app: typer.Typer) -> None:
    """Add the lab's commands: the benchmarks under ``canyu bench``, the fleet simulation under
    ``canyu device``."""
    from canyu.lab import (
        checkin,
        dedup,
        flashsale,
        flood,
        greetings_bench,
        hotspots_bench,
        screenshots_bench,
        telemetry_bench,
    )

    bench_app.command("dedup", help="Duplicate retrieval on a bug-report dataset.")(dedup.dedup)
    bench_app.command("dedup-bilingual", help="Cross-language retrieval on translated messages.")(
        dedup.dedup_bilingual_command
    )
    bench_app.command("checkin", help="Check-in throughput and latency beside a bare ASGI floor.")(
        checkin.checkin
    )
    bench_app.command("flashsale", help="A flash sale under a crowd: Redis or SQLite, via HTTP.")(
        flashsale.flashsale
    )
    bench_app.command(
        "flashsale-fairness", help="Win chances by arrival time and by request volume."
    )(flashsale.fairness)
    bench_app.command("flood", help="A burst of concurrent requests: answered at once, or shed.")(
        flood.flood
    )
    bench_app.command("calls-abuse", help="Anti-abuse simulation of the reputation model.")(
        bench_abuse
    )
    bench_app.command("pack", help="Offline pack size, deltas and device lookup time.")(bench_pack)
    bench_app.command(
        "calls-feed", help="Complaint feeds back-tested: intercepted, random flagged, packs."
    )(bench_calls_feed)
    bench_app.command("sms", help="SMS spam classifier by stratified cross-validation.")(bench_sms)
    bench_app.command("calls-replay", help="Marks through the HTTP API: throughput, freshness.")(
        bench_replay
    )
    bench_app.command("greetings", help="Greeting packs for every country: time, size, lookup.")(
        greetings_bench.greetings
    )
    bench_app.command(
        "hotspots", help="Near-me latency beside a bare ASGI floor; pack size, build, deltas."
    )(hotspots_bench.hotspots)
    from canyu.lab import phone_bench

    bench_app.command("phone", help="Calls and SMS on the device; a sync after a day offline.")(
        phone_bench.phone
    )
    bench_app.command(
        "telemetry", help="Small devices' telemetry through Mosquitto into the database."
    )(telemetry_bench.telemetry)
    bench_app.command(
        "screenshots", help="Cleaning an uploaded screenshot and a camera photo: ms, bytes."
    )(screenshots_bench.screenshots)
    device_app.command("simulate", help="Drive a simulated fleet against a server of its own.")(
        simulate
    )
