"""Shared by the browser tests: the running server and Chromium's flags."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STAFF_PASSWORD = "agora-demo-2026"


@dataclass
class Server:
    url: str
    log: Path

    def sms_code(self, phone: str, *, after: int = 0, timeout: float = 10.0) -> str:
        """The newest code the console SMS backend printed for ``phone`` (after log offset)."""
        pattern = re.compile(rf"\[SMS to {re.escape(phone)}\] \D*(\d{{6}})")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.findall(self.log.read_text(encoding="utf-8", errors="replace")[after:])
            if found:
                return str(found[-1])
            time.sleep(0.1)
        raise AssertionError(f"no SMS to {phone} in {self.log}")

    def log_size(self) -> int:
        return len(self.log.read_text(encoding="utf-8", errors="replace"))
