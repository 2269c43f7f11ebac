"""A rollout's history in the reader's language. The gates store an English reason for the API
and the logs; pages write each event again from its kind and the facts stored with it (the
signals), so a Chinese page has no English left in it. Pure: an event's facts in, a sentence
out. The team's own words (a reason they typed) are shown as written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from canyu.i18n import Gettext

# What the services write when the team gives no reason: shown as "by <name>" instead.
_DEFAULT_PREFIX = {
    "paused": "paused by ",
    "halted": "halted by ",
    "rolled_back": "rolled back by ",
}

KIND_LABELS = {
    "started": "started",
    "advanced": "advanced",
    "completed": "completed",
    "paused": "paused",
    "auto_paused": "auto paused",
    "resumed": "resumed",
    "halted": "halted",
    "rolled_back": "rolled back",
    "new_devices": "new devices",
}


def kind_label(kind: str, _: Gettext) -> str:
    return _(KIND_LABELS.get(kind, kind.replace("_", " ")))


def pct(value: float) -> str:
    """A stage as people write it: 5%, 20%, 0.5%."""
    return f"{value:g}%"


def share(value: float) -> str:
    """A rate as a percentage with one decimal: 2.5%."""
    return f"{100 * value:.1f}%"


def _gate_text(signals: Mapping[str, Any], thresholds: Mapping[str, Any], _: Gettext) -> str | None:
    gate = signals.get("gate")
    successes = int(signals.get("successes", 0))
    failures = int(signals.get("failures", 0))
    if gate == "failures":
        return _(
            "Install failures {failures} of {attempts} ({rate}), above the {limit} allowed."
        ).format(
            failures=failures,
            attempts=successes + failures,
            rate=share(float(signals.get("failure_rate", 0.0))),
            limit=share(float(thresholds.get("max_failure_rate", 0.0))),
        )
    if gate == "crashes":
        return _(
            "{crashes} crashes on {installs} installs ({rate}), above the {limit} allowed."
        ).format(
            crashes=int(signals.get("crashes", 0)),
            installs=successes,
            rate=share(float(signals.get("crash_rate", 0.0))),
            limit=share(float(thresholds.get("max_crash_rate", 0.0))),
        )
    if gate == "feedback":
        return _(
            "Feedback spike: {rate} of installs wrote a post, against {previous} on the "
            "previous build."
        ).format(
            rate=share(float(signals.get("feedback_rate", 0.0))),
            previous=share(float(signals.get("previous_feedback_rate", 0.0))),
        )
    return None


def event_text(
    kind: str,
    *,
    reason: str | None,
    signals: Mapping[str, Any],
    actor: str | None,
    thresholds: Mapping[str, Any],
    _: Gettext,
) -> str:
    """One history line's sentence (after its kind and stage), in the reader's language."""
    typed = reason
    prefix = _DEFAULT_PREFIX.get(kind)
    if typed and prefix and typed.startswith(prefix):
        typed = None
    by = _("By {name}.").format(name=actor) if actor else ""
    words = _("By {name}: {reason}").format(name=actor, reason=typed) if actor and typed else by
    if kind == "started":
        to = signals.get("to")
        return _("Offered to {percent} of devices in scope.").format(
            percent=pct(float(to)) if to is not None else (reason or "")
        )
    if kind == "advanced":
        moved = _("From {before} to {after}.").format(
            before=pct(float(signals.get("from", 0))), after=pct(float(signals.get("to", 0)))
        )
        if "from" not in signals:
            moved = ""
        who = words if actor else _("Healthy: the gates moved it on.")
        return f"{moved} {who}".strip()
    if kind == "completed":
        if not actor:
            return _("Healthy at the last stage: every device in scope is offered the build.")
        everyone = _("Every device in scope is offered the build.")
        return f"{everyone} {words}"
    if kind == "auto_paused":
        return _gate_text(signals, thresholds, _) or (reason or "")
    if kind == "rolled_back":
        back = _("Devices on this build are offered {version}.").format(
            version=signals.get("to", "")
        )
        return f"{back} {words}".strip()
    if kind == "new_devices":
        return _(
            "{new} devices registered since the rollout started, against {before} before."
        ).format(new=int(signals.get("new", 0)), before=int(signals.get("before", 0)))
    if kind in ("paused", "halted", "resumed"):
        return words
    return reason or ""
