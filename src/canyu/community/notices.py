"""Notification texts, written in each reader's language from the stored facts."""

from __future__ import annotations

from typing import Any

from canyu.i18n import Gettext

STATUS_LABELS = {
    "new": "New",
    "accepted": "Accepted",
    "planned": "Planned",
    "shipped": "Shipped",
    "declined": "Declined",
    "duplicate": "Duplicate",
}


def status_label(status: str, _: Gettext) -> str:
    return _(STATUS_LABELS.get(status, status))


def describe(payload: dict[str, Any], _: Gettext) -> str:
    title = payload.get("post_title", "")
    event = payload.get("event")
    if event == "status":
        text = _("“{title}” is now {status}.").format(
            title=title, status=status_label(payload.get("to", ""), _)
        )
    elif event == "merged":
        text = _("“{title}” was merged into #{target}: “{target_title}”.").format(
            title=title, target=payload.get("target_id"), target_title=payload.get("target_title")
        )
    elif event == "unmerged":
        text = _("“{title}” is no longer marked as a duplicate.").format(title=title)
    elif event == "installed":
        # Written by canyu.devices when the friend's own device installs the build with the fix.
        text = _("Fixed in build {build} — it is on your phone now: “{title}”.").format(
            build=payload.get("build", ""), title=title
        )
    elif event == "appeal":
        # Written by canyu.calls when the team decides a friend's appeal of a number's label.
        text = (
            _("Your appeal for {number} was upheld: the label is gone.")
            if payload.get("upheld")
            else _("Your appeal for {number} was rejected: the label stays.")
        ).format(number=payload.get("number", ""))
        note = payload.get("note")
        if note:
            return _("{text} Note from the team: {note}").format(text=text, note=note)
    elif event == "comment":
        text = _("{name} commented on “{title}”.").format(name=payload.get("by", ""), title=title)
    elif event == "moderation":
        text = _moderation_text(payload, _).format(title=title)
    elif event == "conversation":
        if payload.get("from_team"):
            text = _("{name} of the team wrote to you privately about “{title}”.")
        else:
            text = _("{name} answered privately about “{title}”.")
        text = text.format(name=payload.get("by", ""), title=title)
    else:
        text = title
    reason = payload.get("reason")
    if not reason:
        return text
    return _("{text} Reason: {reason}").format(text=text, reason=reason)


def _moderation_text(payload: dict[str, Any], _: Gettext) -> str:
    """What the team did to the reader's post or comment (community.moderation)."""
    on_comment = payload.get("target") == "comment"
    texts = {
        "edit": (
            _("The team edited your post “{title}”."),
            _("The team edited your comment on “{title}”."),
        ),
        "hide": (
            _("The team hid your post “{title}”."),
            _("The team hid your comment on “{title}”."),
        ),
        "delete": (
            _("The team deleted your post “{title}”."),
            _("The team deleted your comment on “{title}”."),
        ),
        "restore": (
            _("The team restored your post “{title}”."),
            _("The team restored your comment on “{title}”."),
        ),
    }
    pair = texts.get(str(payload.get("action")), texts["edit"])
    return pair[1] if on_comment else pair[0]
