"""A real server for the browser tests: a temporary SQLite file, migrated and filled with the
SMALL demo district, served by gunicorn; Debian's chromium driven by Playwright.

Everything is bounded in time; the server is stopped at the end of the session."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.support import CHROMIUM_ARGS, Server

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/manifest.webmanifest", timeout=2) as response:  # noqa: S310 (local test server)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("agora-browser")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp / 'agora.sqlite3'}",
        "SMS_BACKEND": "agora.accounts.sms.ConsoleSmsBackend",
        "DJANGO_SETTINGS_MODULE": "agora.settings",
        "PYTHONUNBUFFERED": "1",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    subprocess.run(
        [*manage, "demo_district", "--seed", "42", "--small"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
        stdout=subprocess.DEVNULL,
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env["SITE_URL"] = url  # providers' QR codes and notifications point here
    log = tmp / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "agora.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--no-control-socket",
                "--timeout",
                "30",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, proc, timeout=30)
        yield Server(url=url, log=log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=CHROMIUM_ARGS,
            timeout=30_000,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium, server):  # type: ignore[no-untyped-def]
    """Open pages in fresh contexts: a phone-sized window whose browser asks for Chinese."""
    contexts = []

    def make(*, width: int = 412, height: int = 915, service_workers: str = "block"):  # type: ignore[no-untyped-def]
        context = chromium.new_context(
            base_url=server.url,
            locale="zh-CN",
            viewport={"width": width, "height": height},
            service_workers=service_workers,
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
