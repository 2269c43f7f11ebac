"""The SMS classifier: data loading, training with a calibrated threshold, saving, the device."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA

from canyu.calls import sms
from canyu.client.calls import CallsClient

DATASET = SHARED_DATA / "sms" / "SMSSpamCollection"

SPAM = [
    "WINNER!! You have won a £{n} prize. Call 0906{n}{n} now to claim",
    "FREE entry to win {n} cash! Txt WIN to 8{n}1 now. T&C apply",
    "恭喜您中奖{n}元，请点击链接 http://x{n}.cn 领取",
    "Urgent! Your account {n} is locked, verify at http://bank{n}.example",
    "您的快递{n}异常，请加微信{n}办理理赔退款",
]
HAM = [
    "are we still on for lunch at {n}?",
    "ok see you at the station, bus {n} is late",
    "妈妈说晚上{n}点吃饭，记得买菜",
    "thanks for the notes, I'll bring them back on monday",
    "明天开会改到下午{n}点，会议室不变",
]


def synthetic(count: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    rng = random.Random(seed)
    texts, labels = [], []
    for i in range(count):
        spam = i % 4 == 0
        template = rng.choice(SPAM if spam else HAM)
        texts.append(template.format(n=rng.randrange(10, 9999)))
        labels.append(int(spam))
    return texts, np.array(labels, dtype=np.int8)


def test_read_dataset_checks_every_line(tmp_path: Path) -> None:
    good = tmp_path / "good.tsv"
    good.write_text("spam\tWin now\nham\tHello\n\nHAM\tBye\n", encoding="utf-8")
    texts, labels = sms.read_dataset(good)
    assert texts == ["Win now", "Hello", "Bye"]
    assert labels.tolist() == [1, 0, 0]
    bad = tmp_path / "bad.tsv"
    bad.write_text("spam\tWin now\nmaybe\tHello\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:2"):
        sms.read_dataset(bad)
    one_class = tmp_path / "one.tsv"
    one_class.write_text("ham\ta\nham\tb\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both"):
        sms.read_dataset(one_class)


def test_train_save_load_and_classify_on_the_phone(tmp_path: Path) -> None:
    texts, labels = synthetic(400)
    # 300 ham messages are too few to calibrate a 0.4% false-positive rate: aim for none.
    model = sms.train(texts, labels, folds=3, target_fpr=0.0)
    path = tmp_path / "model.skops"
    model.save(path)
    phone = CallsClient("http://127.0.0.1:9", "unused", data_dir=tmp_path)
    with pytest.raises(RuntimeError):
        phone.classify_sms("hi")
    phone.load_sms_model(path)
    assert phone.classify_sms("WINNER!! You have won a £500 prize. Call 09061234 now")[0]
    assert phone.classify_sms("恭喜您中奖8000元，请点击链接 http://x1.cn 领取")[0]
    assert not phone.classify_sms("ok see you at the station, bus 42 is late")[0]
    chinese_ham = next(t for t, y in zip(texts, labels, strict=True) if not y and "会议室" in t)
    assert not phone.classify_sms(chinese_ham)[0]
    loaded = sms.SmsClassifier.load(path)
    assert loaded.threshold == pytest.approx(model.threshold)


def test_metrics_are_computed_from_counts() -> None:
    predicted = np.array([True, True, False, False, True])
    labels = np.array([1, 0, 1, 0, 0])
    m = sms.Metrics.of(predicted, labels)
    assert (m.tp, m.fp, m.fn, m.tn) == (1, 2, 1, 1)
    assert m.precision == pytest.approx(1 / 3)
    assert m.recall == pytest.approx(0.5)
    assert m.ham_fpr == pytest.approx(2 / 3)


@pytest.mark.data
def test_on_the_real_collection_a_held_out_fold_is_classified_well() -> None:
    if not DATASET.exists():
        pytest.skip(f"needs {DATASET} (the UCI SMS Spam Collection in ../shared/data)")
    from sklearn.model_selection import train_test_split  # type: ignore[import-untyped]

    texts, labels = sms.read_dataset(DATASET)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.25, stratify=labels, random_state=0
    )
    model = sms.train(train_x, train_y, folds=3)
    predicted = model.scores(test_x) > model.threshold
    metrics = sms.Metrics.of(predicted, test_y)
    assert metrics.recall >= 0.93
    assert metrics.ham_fpr <= 0.01
