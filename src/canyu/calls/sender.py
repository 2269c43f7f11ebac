"""Delivering one-time codes to a phone number: a small interface, and a logging sender for
development. A production sender (an SMS gateway, or a voice call reading the code) implements
:class:`CodeSender` and is named in ``CANYU_CALLS_CODE_SENDER`` as ``module:factory``."""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

log = logging.getLogger("canyu.calls.codes")


class CodeSender(Protocol):
    def send(self, e164: str, code: str, *, locale: str) -> None:
        """Deliver ``code`` to ``e164``; raise on failure (the code is then not kept)."""


class LoggingSender:
    """Writes the code to the log (development and demos only) and remembers the last one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, e164: str, code: str, *, locale: str) -> None:
        self.sent.append((e164, code))
        message = "您的 canyu 验证码是" if locale == "zh" else "Your canyu code is"
        log.warning("DEV code sender: to %s: %s %s", e164, message, code)


_DEFAULT = LoggingSender()


def load_sender(spec: str) -> CodeSender:
    """``"logging"`` or ``"package.module:factory"`` (a callable returning a CodeSender)."""
    if spec in ("", "logging"):
        return _DEFAULT
    module_name, _, attribute = spec.partition(":")
    if not attribute:
        raise ValueError(f"code sender {spec!r}: use 'logging' or 'module:factory'")
    factory = getattr(importlib.import_module(module_name), attribute)
    sender: CodeSender = factory()
    return sender
