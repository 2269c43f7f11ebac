"""Email through SMTP when configured, sent only after the transaction that caused it commits."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from canyu.config import Settings

log = logging.getLogger("canyu.mail")
_OUTBOX = "canyu_outbox"


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    body: str
    # Extra header lines, e.g. List-Unsubscribe on a digest.
    headers: tuple[tuple[str, str], ...] = ()


def queue_email(session: Session, email: Email) -> None:
    """Keep an email on the session; it leaves only if the session commits."""
    session.info.setdefault(_OUTBOX, []).append(email)


def take_outbox(session: Session) -> list[Email]:
    return list(session.info.pop(_OUTBOX, []))


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canyu-mail")

    @property
    def enabled(self) -> bool:
        return bool(self.settings.smtp_host)

    def send_later(self, emails: Iterable[Email]) -> None:
        batch = list(emails)
        if batch and self.enabled:
            self._pool.submit(self._send, batch)

    def _send(self, emails: list[Email]) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
                if s.smtp_starttls:
                    smtp.starttls()
                if s.smtp_user:
                    smtp.login(s.smtp_user, s.smtp_password)
                for email in emails:
                    message = EmailMessage()
                    message["From"] = s.smtp_from
                    message["To"] = email.to
                    message["Subject"] = email.subject
                    for name, value in email.headers:
                        message[name] = value
                    message.set_content(email.body)
                    smtp.send_message(message)
        except (OSError, smtplib.SMTPException):
            # Mail is a courtesy copy of the in-app notification, which is already stored.
            log.exception("could not send %d notification emails", len(emails))

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def send_on_commit(session_factory: object, mailer: Mailer) -> None:
    """Hand queued emails to the mailer when a session commits; drop them on rollback."""
    from sqlalchemy import event

    event.listen(session_factory, "after_commit", lambda s: mailer.send_later(take_outbox(s)))
    event.listen(session_factory, "after_soft_rollback", lambda s, _t: take_outbox(s))
