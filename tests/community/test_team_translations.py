"""Every string of the moderation, screenshot and conversation pages, notices and refusals has
a Chinese translation (messages.po)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir, extract_from_file

from canyu.community import notices, spam, team_pages
from canyu.i18n import translations
from canyu.web.templating import TEMPLATE_DIR

PYTHON = [
    Path(notices.__file__),
    Path(team_pages.__file__).with_name("moderation.py"),
    Path(team_pages.__file__).with_name("conversations.py"),
]
# Refusals the pages show through the error page's translation.
REFUSALS = [
    "Give a reason; the person concerned reads it.",
    "This is not a PNG, JPEG or WebP image.",
    "The image is damaged or cut short.",
    "The screenshot is empty.",
    "Animated images are not accepted; send a still screenshot.",
    "The image is too detailed to keep; crop it to the part that matters.",
    "At most 4 screenshots per post or comment.",
    "A screenshot has at most 8 MB.",
    "Only the author or the team can add screenshots here.",
    "You cannot report your own writing.",
    "A conversation is between a friend and the team; choose a friend.",
    "You cannot ban yourself.",
    "Only friends' accounts can be banned; change a team member's role first.",
    "This account is already banned.",
    "This account is not banned.",
    "This account was banned by the team.",
    "It is not hidden or deleted.",
    "Friends talk privately with the team only.",
]


def _messages() -> list[str]:
    found: list[str] = []
    for _file, _line, message, _c, _ctx in extract_from_dir(
        TEMPLATE_DIR / "community",
        method_map=[("**.html", "jinja2")],
        options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        found.append(message[0] if isinstance(message, tuple) else message)
    for path in PYTHON:
        for _line, message, _c, _ctx in extract_from_file("python", str(path)):
            found.append(message[0] if isinstance(message, tuple) else message)
    found += [*team_pages.DONE.values(), spam.TOO_MANY_LINKS, spam.REPEATED]
    return [m for m in found + REFUSALS if m]


@pytest.mark.parametrize("message", sorted(set(_messages())))
def test_translated(message: str) -> None:
    assert translations("zh").gettext(message) != message
