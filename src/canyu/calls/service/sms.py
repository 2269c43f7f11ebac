"""SMS rules: friends' reports of misclassified messages, and publishing the phone's model.

The model reaches phones as signed targets of the calls TUF repository (the one the spam packs
use, so the phone trusts one root): ``sms/<language>/model-<version>.cysms`` (plain weights,
canyu.calls.sms.SmsWeights) then ``sms/<language>/index.json`` naming it, in that order so the
index never names a file that is not there."""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.calls import sms
from canyu.calls.models import SmsReport
from canyu.errors import InvalidInput
from canyu.releases.publishing import Publisher

LABELS = ("spam", "ham")
MAX_REPORT_TEXT = 1_000
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def parse_language(value: str) -> str:
    """A language ("en") or a language and region ("zh-CN")."""
    text = value.strip()
    if not _LANGUAGE.match(text):
        raise InvalidInput(
            f"{value!r} is not a language code such as en or zh-CN.", details={"field": "language"}
        )
    return text


def report_sms(
    session: Session,
    *,
    user: User,
    text: str,
    label: str,
    language: str,
    model_version: int | None = None,
) -> SmsReport:
    """A friend says this message is really ``label`` (spam the phone let through, or ham it
    flagged)."""
    if label not in LABELS:
        raise InvalidInput("label is 'spam' or 'ham'.", details={"field": "label"})
    body = text.strip()
    if not body or len(body) > MAX_REPORT_TEXT:
        raise InvalidInput(
            f"The message must be 1 to {MAX_REPORT_TEXT} characters.", details={"field": "text"}
        )
    report = SmsReport(
        user_id=user.id,
        label=label,
        language=parse_language(language),
        text=body,
        model_version=model_version,
    )
    session.add(report)
    session.flush()
    return report


def reports_for_training(session: Session, *, language: str) -> tuple[list[str], list[int]]:
    """Every report for this language, one vote per friend and message (the latest)."""
    rows = session.execute(
        select(SmsReport.user_id, SmsReport.text, SmsReport.label)
        .where(SmsReport.language == language)
        .order_by(SmsReport.id)
    ).all()
    latest = {(user_id, text): label for user_id, text, label in rows}
    texts = [text for _user, text in latest]
    return texts, [1 if label == "spam" else 0 for label in latest.values()]


@dataclass(frozen=True)
class PublishedModel:
    language: str
    version: int
    target: str
    size: int
    threshold: float
    messages: int
    reports: int


def publish_sms_model(
    *,
    texts: Sequence[str],
    labels: np.ndarray,
    language: str,
    publisher: Publisher,
    report_texts: Sequence[str] = (),
    report_labels: Sequence[int] = (),
    target_fpr: float = 0.005,
    version: int | None = None,
) -> PublishedModel:
    """Train on the dataset plus friends' reports, and publish the phone's model."""
    code = parse_language(language)
    all_texts = [*texts, *report_texts]
    all_labels = np.concatenate([np.asarray(labels), np.asarray(report_labels, dtype=np.int8)])
    model = sms.train(all_texts, all_labels, target_fpr=target_fpr)
    number = version if version is not None else int(time.time())
    data = model.weights(language=code, version=number).to_bytes()
    target = f"sms/{code}/model-{number}.cysms"
    index = {
        "language": code,
        "version": number,
        "model": target,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "threshold": model.threshold,
        "messages": len(all_texts),
        "reports": len(report_texts),
    }
    publisher.publish([(target, data), (f"sms/{code}/index.json", json.dumps(index).encode())])
    return PublishedModel(
        code, number, target, len(data), model.threshold, len(all_texts), len(report_texts)
    )
