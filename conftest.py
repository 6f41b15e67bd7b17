"""Test setup shared by every suite.

* The database is built once per session with the SMALL demo district (agora.district.demo),
  so every test sees the same personas, malls and shops and runs inside a rolled-back
  transaction.
* Under CI=true a PostgreSQL or Redis that the run was told to use but cannot reach fails the
  run instead of skipping.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

import pytest

CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    db_url = os.environ.get("DATABASE_URL", "")
    if db_url.startswith("postgres") and not _reachable(db_url, 5432):
        raise pytest.UsageError(
            f"PostgreSQL at {db_url} is unreachable (CI fails rather than skips)"
        )


@pytest.fixture(scope="session", autouse=True)
def _test_settings():  # type: ignore[no-untyped-def]
    """SMS into a list the tests read; personas' passwords hashed with MD5 (tests only)."""
    from django.test import override_settings

    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SMS_BACKEND="agora.accounts.sms.LocmemSmsBackend",
    ):
        yield


@pytest.fixture(scope="session")
def django_db_setup(_test_settings, django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from agora.district.demo import SMALL, build_demo

    with django_db_blocker.unblock():
        build_demo(seed=42, config=SMALL)


@pytest.fixture(autouse=True)
def _sms_outbox():  # type: ignore[no-untyped-def]
    from agora.accounts.sms import LocmemSmsBackend

    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture(autouse=True)
def _clear_cache():  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("AGORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    if not _reachable(url, 6379):
        if CI:
            pytest.fail(f"Redis at {url} is unreachable (CI fails rather than skips)")
        pytest.skip("Redis is not running")
    return url
