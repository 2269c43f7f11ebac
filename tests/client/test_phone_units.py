"""The phone's parts without a server: call rules, the authenticated state file, the SMS
plain-weights model, the call decision's handling of results it does not know, the CLI."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from canyu.calls import sms
from canyu.cli import app as cli_app
from canyu.client.calls import NONE, WARN, Verdict
from canyu.client.device import Device, DeviceState
from canyu.client.phone import Phone
from canyu.client.rules import Action, Rules
from canyu.client.state import HeldFile, PhoneState, StateRefused, StateStore

NUMBER = "+8613800138000"


def test_rules_most_specific_wins_and_contacts_ring() -> None:
    rules = Rules()
    assert rules.add("block", "+86 138*") == "+86138*"
    rules.add("allow", NUMBER)
    rules.set_contacts(["+8613912345678"])
    assert rules.personal(NUMBER) == (Action.RING, f"your allow rule {NUMBER}")
    assert rules.personal("+8613800138001") == (Action.BLOCK, "your block rule +86138*")
    assert rules.personal("+8613912345678") == (Action.RING, "in your contacts")
    assert rules.personal("+8615012345678") is None
    assert rules.personal(None) is None
    rules.block_hidden = True
    assert rules.personal(None) == (Action.BLOCK, "hidden number")
    rules.add("block", NUMBER)  # moves it from allow to block
    assert NUMBER not in rules.allow
    assert rules.personal(NUMBER) == (Action.BLOCK, f"your block rule {NUMBER}")
    assert rules.remove(NUMBER)
    assert not rules.remove(NUMBER)
    with pytest.raises(ValueError, match="not a number"):
        rules.pattern("*")
    with pytest.raises(ValueError, match="explode"):
        rules.set_action("fraud", "explode")
    assert Rules.from_json(json.loads(json.dumps(rules.as_json()))) == rules


def test_category_actions_default_and_unknown_categories_warn() -> None:
    rules = Rules()
    assert rules.for_category("fraud") == Action.BLOCK
    assert rules.for_category("delivery") == Action.RING
    assert rules.for_category("suspicious") == Action.WARN  # a newer server's category
    assert rules.for_category(None) == Action.RING
    assert rules.for_category(None, suspicious=True) == Action.WARN
    rules.set_action("telemarketing", "warn")
    assert rules.for_category("telemarketing") == Action.WARN


def test_the_state_file_round_trips_and_refuses_changes(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = PhoneState()
    state.rules.add("block", "+86400*")
    state.packs["86"] = HeldFile("calls/86/pack.cyp", 3, "ab" * 32)
    state.add_notices([{"id": 5, "text": "hi", "created_at": "2026-01-01T00:00:00Z"}])
    store.save(state)
    assert os.stat(tmp_path / "phone.key").st_mode & 0o777 == 0o600
    loaded = store.load()
    assert loaded.rules.block == ["+86400*"]
    assert loaded.packs["86"].version == 3
    assert loaded.last_notice == 5
    raw = (tmp_path / "phone.json").read_text()
    (tmp_path / "phone.json").write_text(raw.replace('"version": 3', '"version": 4'))
    with pytest.raises(StateRefused, match="HMAC"):
        store.load()
    (tmp_path / "phone.json").write_text(raw[: len(raw) // 2])
    with pytest.raises(StateRefused):
        store.load()
    assert not store.held_file_ok(HeldFile("calls/86/pack.cyp", 3, "ab" * 32))


def _synthetic(count: int = 300) -> tuple[list[str], np.ndarray]:
    spam = [
        "WIN £{n} now, call 0906{n}",
        "恭喜您中奖{n}元，请点击链接",
        "Your account {n} is locked",
    ]
    ham = ["lunch at {n}?", "妈妈说晚上{n}点吃饭", "the bus {n} is late"]
    texts = [(spam if i % 4 == 0 else ham)[i % 3].format(n=100 + i) for i in range(count)]
    return texts, np.array([int(i % 4 == 0) for i in range(count)], dtype=np.int8)


def test_the_phone_model_scores_as_the_server_pipeline_and_never_unpickles() -> None:
    texts, labels = _synthetic()
    model = sms.train(texts, labels, folds=3, target_fpr=0.0)
    weights = model.weights(language="en", version=3)
    data = weights.to_bytes()
    assert len(data) <= 2 * 1024 * 1024
    phone = sms.SmsWeights.from_bytes(data)
    # float16 weights: the phone's scores match the server's to well within the margin.
    np.testing.assert_allclose(phone.scores(texts), model.scores(texts), atol=0.02)
    assert phone.is_spam("WIN £999 now, call 09061234")[0]
    assert not phone.is_spam("the bus 777 is late")[0]
    assert sms.heldout(phone, texts, labels).ham_fpr == 0.0
    with pytest.raises(sms.WeightsError):
        sms.SmsWeights.from_bytes(b"not a zip")
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array([{"format": sms.FORMAT}], dtype=object), coef=weights.coef)
    with pytest.raises(sms.WeightsError):  # an object array would need pickle: refused
        sms.SmsWeights.from_bytes(buffer.getvalue())
    buffer = io.BytesIO()
    header = np.frombuffer(json.dumps({"format": "other"}).encode(), dtype=np.uint8)
    np.savez(buffer, header=header, coef=weights.coef)
    with pytest.raises(sms.WeightsError, match="format"):
        sms.SmsWeights.from_bytes(buffer.getvalue())


def _offline_device(home: Path) -> Device:
    DeviceState(
        server="http://127.0.0.1:9",
        product="canyu-1s",
        hardware_id="x",
        country="CN",
        channel="stable",
        version="1.0.0",
        token="cyd_" + "x" * 43,
        device_id=1,
    ).save(home / "device.json")
    return Device(home)


def test_the_call_decision_warns_on_results_it_does_not_know(tmp_path: Path) -> None:
    phone = Phone(_offline_device(tmp_path))
    offline = phone.screen(NUMBER)  # no pack, no server: it rings, and says why
    assert (offline.action, offline.source) == (Action.RING, "none")
    assert phone.screen("12").action == Action.WARN  # not a valid number
    assert phone.screen("hidden").action == Action.RING

    def lookup(category: str | None, warn: bool = False) -> None:
        verdict = Verdict(False, category, 7, WARN if warn else NONE)
        phone.calls.lookup = lambda number, region=None: verdict  # type: ignore[method-assign]

    lookup("suspicious")
    decision = phone.screen(NUMBER)
    assert (decision.action, decision.source, decision.reporters) == (Action.WARN, "lookup", 7)
    assert decision.describe() == f"{NUMBER} — Suspicious — marked by 7 friends — WARN " + (
        "(your action for suspicious)"
    )
    lookup(None, warn=True)
    assert phone.screen(NUMBER).action == Action.WARN
    lookup("fraud")
    assert phone.screen(NUMBER).action == Action.BLOCK
    phone.state.rules.add("allow", NUMBER)
    assert phone.screen(NUMBER).source == "rule"
    phone.close()


def test_rules_on_the_command_line(tmp_path: Path) -> None:
    _offline_device(tmp_path)
    runner = CliRunner()
    home = ["--home", str(tmp_path)]

    def run(*args: str) -> str:
        result = runner.invoke(cli_app, ["device", *args, *home])
        assert result.exit_code == 0, result.output
        return result.output

    run("rules", "block", "+86 400*")
    run("rules", "hidden", "true")
    run("rules", "category", "telemarketing", "warn")
    contacts = tmp_path / "contacts.vcf"
    contacts.write_text("BEGIN:VCARD\nTEL;TYPE=cell:+86 139 1234 5678\nEND:VCARD\nnot a number\n")
    assert "1 contacts" in run("rules", "contacts", str(contacts))
    shown = json.loads(run("rules", "show"))
    assert shown["block"] == ["+86400*"]
    assert shown["block_hidden"] is True
    assert shown["actions"]["telemarketing"] == "warn"
    assert shown["contacts"] == 1
    decided = json.loads(run("call", "+86 400 123 4567", "--offline", "--json"))
    assert (decided["action"], decided["source"]) == ("block", "rule")
    decided = json.loads(run("call", "+8613912345678", "--offline", "--json"))
    assert (decided["action"], decided["reason"]) == ("ring", "in your contacts")
    bad = runner.invoke(cli_app, ["device", "rules", "category", "spam", "block", *home])
    assert bad.exit_code != 0
    bad = runner.invoke(cli_app, ["device", "rules", "block", "abc", *home])
    assert bad.exit_code != 0
    assert "not a number" in bad.output
