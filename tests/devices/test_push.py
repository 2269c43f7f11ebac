"""Pushes over MQTT, against the real local broker: a new stage publishes on the product/channel/
country topic, so devices there check in at once. Without a broker, nothing is sent."""

from __future__ import annotations

import json
import queue
import uuid
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from releases.fixtures import Shop

from canyu.db import Database
from canyu.devices import identity
from canyu.devices import service as devices
from canyu.devices.push import MqttPusher, NullPusher, publish_after_commit
from canyu.devices.topics import parse_mqtt_url
from canyu.releases import health
from canyu.releases import service as releases

GATES = health.Thresholds(min_successes=1, min_sample=10)


@pytest.fixture
def subscriber(mqtt_broker: tuple[str, int]) -> Any:
    host, port = mqtt_broker
    received: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}")
    subscribed = queue.Queue[int]()
    client.on_message = lambda _c, _u, msg: received.put((msg.topic, json.loads(msg.payload)))
    client.on_subscribe = lambda *_args: subscribed.put(1)
    client.connect(host, port)
    client.loop_start()
    client.subscribe("canyu/canyu-1s/#", qos=1)
    subscribed.get(timeout=5)
    yield received
    client.loop_stop()
    client.disconnect()


def _checks_in_offered(database: Database, shop: Shop, token: str) -> bool:
    with database.session() as s:
        offer = releases.check_in(
            s, token_digest=identity.token_hash(token), version="1.0", offers=shop.runtime.offers
        )
        s.commit()
    return offer is not None


def _register(database: Database, country: str, channel: str = "stable", n: int = 0) -> str:
    with database.session() as s:
        return releases.enrol_device(
            s,
            product_key="canyu-1s",
            hardware_id=f"{country}-{channel}-{n}",
            country=country,
            channel=channel,
            version="1.0",
        ).token


def test_a_new_stage_is_pushed_to_each_country_topic(
    shop: Shop, database: Database, subscriber: Any, mqtt_broker: tuple[str, int]
) -> None:
    host, port = mqtt_broker
    shop.runtime.pusher = MqttPusher(f"mqtt://{host}:{port}", wait=True)
    shop.product()
    tokens = [_register(database, country) for country in ("CN", "IN")]
    _register(database, "ES", channel="beta")  # another channel: not told
    more = [_register(database, "CN", n=n) for n in range(1, 301)]  # in the fleet before it
    rollout = shop.rollout(shop.build("2.0"), stages=(5, 100), thresholds=GATES)
    got = [subscriber.get(timeout=5) for _ in range(2)]
    topics = {t for t, _ in got}
    assert topics == {"canyu/canyu-1s/stable/CN", "canyu/canyu-1s/stable/IN"}
    message = next(m for _, m in got)
    assert message["rollout"] == rollout.id
    assert message["percent"] == 5.0
    assert message["version"] == "2.0"
    # The gates advancing a stage push again (on a report of a device offered the build).
    offered = [t for t in tokens + more if _checks_in_offered(database, shop, t)]
    with database.session() as s:
        device = devices.authenticate(s, raw_token=offered[0])
        releases.report(
            s,
            device=device,
            report_id="install-1",
            kind="install",
            version="2.0",
            success=True,
            offers=shop.runtime.offers,
        )
    assert shop.evaluate(rollout).action == health.Action.ADVANCE
    advanced = [subscriber.get(timeout=5) for _ in range(2)]
    assert {m["percent"] for _, m in advanced} == {100.0}
    # Pausing does not push; resuming does.
    with database.session() as s:
        releases.pause(s, actor=shop.team, rollout_id=rollout.id, runtime=shop.runtime)
        releases.resume(s, actor=shop.team, rollout_id=rollout.id, runtime=shop.runtime)
    resumed = {subscriber.get(timeout=5)[0] for _ in range(2)}
    assert resumed == {"canyu/canyu-1s/stable/CN", "canyu/canyu-1s/stable/IN"}
    assert subscriber.empty()


def test_nothing_is_pushed_when_the_change_rolls_back(
    database: Database, mqtt_broker: tuple[str, int], subscriber: Any
) -> None:
    host, port = mqtt_broker
    pusher = MqttPusher(f"mqtt://{host}:{port}", wait=True)

    def failing_request() -> None:
        with database.session() as s:
            publish_after_commit(s, pusher, [("canyu/canyu-1s/stable/CN", {"event": "check-in"})])
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    with database.session() as s:
        publish_after_commit(s, pusher, [("canyu/canyu-1s/stable/IN", {"event": "check-in"})])
    assert subscriber.get(timeout=5)[0] == "canyu/canyu-1s/stable/IN"
    assert pusher.sent == 1


def test_without_a_broker_devices_poll() -> None:
    NullPusher().publish([("canyu/x/stable/CN", {})])  # sends nothing, raises nothing
    unreachable = MqttPusher("mqtt://127.0.0.1:9", wait=True)
    unreachable.publish([("canyu/x/stable/CN", {})])  # logged, never raised
    assert unreachable.sent == 0
    assert parse_mqtt_url("mqtt://broker.local") == ("broker.local", 1883)
    with pytest.raises(ValueError, match="mqtt://"):
        parse_mqtt_url("http://x")
