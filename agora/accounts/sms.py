"""Pluggable SMS backends. Production plugs in a carrier's gateway with the same interface."""

from __future__ import annotations

import logging
import sys
from typing import ClassVar, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("agora.sms")


class SmsBackend(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class ConsoleSmsBackend:
    """Development: the message is printed where `runserver` prints."""

    def send(self, *, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class LocmemSmsBackend:
    """Tests: messages are kept in ``LocmemSmsBackend.outbox`` (like Django's mail.outbox)."""

    outbox: ClassVar[list[tuple[str, str]]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.outbox.append((phone, text))


def get_backend() -> SmsBackend:
    backend: SmsBackend = import_string(settings.SMS_BACKEND)()
    return backend
