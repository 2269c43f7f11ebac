"""A real SMTP server for tests (aiosmtpd on a free local port) that keeps what the app sends,
and a way to read each message as the recipient's mail app would. A pytest plugin (registered in
tests/conftest.py): the `inbox` fixture is everywhere."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from fastapi import FastAPI
from fastapi.testclient import TestClient

from canyu.app import create_app
from canyu.config import Settings
from canyu.db import Database

LINK = re.compile(r"https?://\S+")


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        with self.arrived:
            self.messages.append(envelope)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Envelope]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count and time.monotonic() < deadline:
                self.arrived.wait(deadline - time.monotonic())
            return list(self.messages)

    def recipients(self) -> list[str]:
        return sorted(r for message in self.messages for r in message.rcpt_tos)

    def last_to(self, address: str, *, count: int = 1, timeout: float = 15.0) -> EmailMessage:
        """The latest message to ``address``, once ``count`` messages to it have arrived."""
        deadline = time.monotonic() + timeout
        with self.arrived:
            while True:
                mine = [m for m in self.messages if address in m.rcpt_tos]
                if len(mine) >= count or time.monotonic() >= deadline:
                    break
                self.arrived.wait(deadline - time.monotonic())
        assert len(mine) >= count, f"{len(mine)} mails to {address} among {self.recipients()}"
        return parse(mine[-1])


def parse(envelope: Envelope) -> EmailMessage:
    content = envelope.content
    assert isinstance(content, bytes)
    message = message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def links_in(message: EmailMessage) -> list[str]:
    return LINK.findall(message.get_content())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


MAIL_BASE_URL = "http://testserver"


@pytest.fixture
def mail_app(
    settings: Settings, database: Database, inbox: tuple[Inbox, int]
) -> Iterator[tuple[FastAPI, TestClient]]:
    """The app mailing through the inbox's server, its links naming the test client's host."""
    smtp = settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": inbox[1],
            "smtp_starttls": False,
            "base_url": MAIL_BASE_URL,
        }
    )
    app = create_app(smtp, database)
    with TestClient(app) as test_client:
        yield app, test_client
