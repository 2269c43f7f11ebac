"""The phone end to end: a served app (lab.servers.Uvicorn, its own process and database) and
phones that speak only HTTP and MQTT to it, like real ones."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from conftest import MQTT_HOST, MQTT_PORT, _tcp_reachable, require_service
from paho.mqtt.enums import CallbackAPIVersion

from canyu.client.device import Device
from canyu.client.phone import Phone
from canyu.client.rules import Action
from canyu.client.tuf_fetch import UpdateRefused
from canyu.devices.topics import device_topic
from canyu.lab.phone_world import PhoneWorld

SPAM_NUMBER = "+8613800138000"
LATER_NUMBERS = ["+8613912345678", "+8615012345678"]
SMS_SPAM = [
    "WINNER!! You have won a £{n} prize. Call 0906{n} now to claim",
    "FREE entry to win {n} cash! Txt WIN to 8{n}1 now",
    "Urgent! Your account {n} is locked, verify at http://bank{n}.example",
    "恭喜您中奖{n}元，请点击链接 http://x{n}.cn 领取",
]
SMS_HAM = [
    "are we still on for lunch at {n}?",
    "ok see you at the station, bus {n} is late",
    "thanks for the notes, I'll bring them back on monday",
    "妈妈说晚上{n}点吃饭，记得买菜",
]


def sms_corpus(count: int = 400) -> tuple[list[str], np.ndarray]:
    texts, labels = [], []
    for i in range(count):
        spam = i % 4 == 0
        pool = SMS_SPAM if spam else SMS_HAM
        texts.append(pool[i % len(pool)].format(n=1000 + i * 37))
        labels.append(int(spam))
    return texts, np.array(labels, dtype=np.int8)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PhoneWorld]:
    """One served app for the module (starting one takes seconds), with the real broker."""
    require_service(_tcp_reachable(MQTT_HOST, MQTT_PORT), f"MQTT broker at {MQTT_HOST}:{MQTT_PORT}")
    url = f"mqtt://{MQTT_HOST}:{MQTT_PORT}"
    with PhoneWorld(tmp_path_factory.mktemp("world"), mqtt_url=url) as w:
        texts, labels = sms_corpus()
        w.publish_sms(texts, labels, language="en")
        yield w


def mark_until_labelled(world: PhoneWorld, number: str, tmp_path: Path, friends: int = 4) -> None:
    # Four seasoned friends with phones: decay makes three a hair short of the label score.
    for i in range(friends):
        owner = world.friend()
        phone = Phone(world.phone(owner, tmp_path / f"marker-{number}-{i}"))
        phone.mark(number, "fraud")
        phone.close()
    world.build_pack("CN")


def test_a_number_marked_by_enough_friends_is_blocked_on_another_phone_after_its_sync(
    world: PhoneWorld, tmp_path: Path
) -> None:
    phone = Phone(world.phone(world.friend(), tmp_path / "second"))
    before = phone.screen(SPAM_NUMBER, online=False)
    assert before.action == Action.RING
    mark_until_labelled(world, SPAM_NUMBER, tmp_path)
    assert phone.screen(SPAM_NUMBER, online=False).action == Action.RING  # not synced yet
    report = phone.sync_all()
    assert report.parts["calls"] in ("full", "delta"), report.parts
    decision = phone.screen(SPAM_NUMBER, online=False)
    assert (decision.action, decision.category, decision.source) == (Action.BLOCK, "fraud", "pack")
    online = phone.screen(SPAM_NUMBER)
    assert online.reporters == 4
    assert "marked by 4 friends" in online.describe()
    # The friend's own rules win over the crowd, and survive a restart.
    phone.state.rules.add("allow", SPAM_NUMBER)
    phone.save()
    phone.close()
    again = Phone(Device(tmp_path / "second"))
    assert again.screen(SPAM_NUMBER, online=False).action == Action.RING
    again.close()


def test_a_phone_offline_for_a_day_catches_up(world: PhoneWorld, tmp_path: Path) -> None:
    device = world.phone(world.friend(), tmp_path / "traveller")
    phone = Phone(device)
    phone.sync_all()
    held = phone.state.packs["86"].version
    # Offline: every sync fails, and the phone keeps screening from what it holds.
    assert device.state is not None
    server = device.state.server
    device.state.server = "http://127.0.0.1:9"
    offline = Phone(device)
    failed = offline.sync_all()
    assert all(how.startswith(("failed", "refused")) for how in failed.parts.values()), failed
    offline.close()
    # Meanwhile friends label more numbers, in several pack versions.
    for number in LATER_NUMBERS:
        mark_until_labelled(world, number, tmp_path)
    device.state.server = server
    back = Phone(device)
    started = time.monotonic()
    report = back.sync_all()
    assert time.monotonic() - started < 30
    assert report.parts["calls"] in ("delta", "full")
    assert back.state.packs["86"].version > held
    for number in LATER_NUMBERS:
        assert back.screen(number, online=False).action == Action.BLOCK
    back.close()


def test_tampered_packs_models_and_state_are_refused_and_fetched_again(
    world: PhoneWorld, tmp_path: Path
) -> None:
    mark_until_labelled(world, "+8618612345678", tmp_path)
    home = tmp_path / "victim"
    phone = Phone(world.phone(world.friend(), home))
    phone.sync_all()
    assert phone.classify_sms("WINNER!! You have won a £900 prize. Call 09061234 now")[0]
    phone.close()

    # A pack changed on the phone is refused (never read) and fetched again at the next sync.
    pack = home / "calls" / "86" / "pack.cyp"
    data = bytearray(pack.read_bytes())
    data[-1] ^= 0x01
    pack.write_bytes(bytes(data))
    phone = Phone(Device(home))
    refused = phone.screen("+8618612345678", online=False)
    assert refused.source != "pack"
    assert not pack.exists()
    assert phone.sync_all().parts["calls"] == "full"
    assert phone.screen("+8618612345678", online=False).action == Action.BLOCK

    # A model changed on the phone: refused, fetched again before classifying.
    model = home / "sms" / "en" / "model.cysms"
    flipped = bytearray(model.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    model.write_bytes(bytes(flipped))
    phone = Phone(Device(home))
    assert not phone.classify_sms("ok see you at the station, bus 12 is late")[0]
    assert phone.store.held_file_ok(phone.state.sms["en"])

    # The state file edited by hand (here: unblocking hidden numbers): refused, started afresh.
    phone.state.rules.block_hidden = True
    phone.save()
    phone.close()
    state = home / "phone.json"
    state.write_text(state.read_text().replace('"block_hidden": true', '"block_hidden": false'))
    phone = Phone(Device(home))
    assert phone.refused is not None
    assert "HMAC" in phone.refused
    assert phone.state.packs == {}
    assert not pack.exists()
    phone.close()

    # A model tampered with on the server never verifies.
    targets = world.release.tuf_dir / "calls" / "targets" / "sms" / "en"
    served_models = list(targets.glob("*model-*.cysms"))
    assert served_models
    for served in served_models:
        flipped = bytearray(served.read_bytes())
        flipped[len(flipped) // 2] ^= 0x01
        served.write_bytes(bytes(flipped))
    fresh = Phone(world.phone(world.friend(), tmp_path / "fresh"))
    with pytest.raises(UpdateRefused):
        fresh.sync_sms()
    fresh.close()
    world.publish_sms(*sms_corpus(), language="en")  # a good model again for other tests


def test_a_fix_shipped_in_a_build_reaches_the_reporters_phone_as_a_pushed_notice(
    world: PhoneWorld, tmp_path: Path
) -> None:
    home = tmp_path / "reporter"
    device = world.phone(world.friend(), home)
    phone = Phone(device)
    post = phone.feedback(title="Alarm stays silent after the update", body="Every morning.")
    assert post["software_build"] == "1.0.0"
    phone.close()

    # Watch the phone's own topic too: the notice's doorbell must ring there.
    rung: list[bytes] = []
    assert device.state is not None
    assert device.state.device_id is not None
    doorbell = mqtt.Client(CallbackAPIVersion.VERSION2)
    doorbell.on_message = lambda _c, _u, message: rung.append(bytes(message.payload))
    doorbell.connect(MQTT_HOST, MQTT_PORT)
    doorbell.subscribe(device_topic(device.state.device_id), qos=1)
    doorbell.loop_start()

    stopping = threading.Event()
    results: list[str] = []
    listener = Device(home)
    assert listener.state is not None
    listener.state.poll_seconds = 3600  # only a push can wake it
    thread = threading.Thread(
        target=listener.listen,
        kwargs={"on_update": lambda r: results.append(r.reason), "stop": stopping.is_set},
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not results and time.monotonic() < deadline:
            time.sleep(0.2)  # the first cycle ran (up to date)
        time.sleep(1.0)  # subscribed
        world.ship_fix("1.1.0", [int(post["id"])])
        inbox: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reader = Phone(Device(home))
            inbox = [n["text"] for n in reader.state.inbox]
            reader.close()
            if any("1.1.0" in text for text in inbox):
                break
            time.sleep(0.5)
    finally:
        stopping.set()
        thread.join(timeout=10)
        doorbell.loop_stop()
        doorbell.disconnect()
    assert rung
    assert json.loads(rung[0]) == {"event": "notice"}
    assert any("Fixed in build 1.1.0" in text and "on your phone now" in text for text in inbox), (
        inbox
    )
