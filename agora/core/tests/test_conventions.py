"""Shared conventions: problem+json everywhere, idempotency, audit, request ids, settings."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from agora.accounts.actor import ANONYMOUS
from agora.core.errors import IdempotencyKeyReused
from agora.core.logging import JsonFormatter
from agora.core.models import IdempotencyRecord
from agora.core.services import idempotent_run
from agora.testing.personas import anonymous, as_persona

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_problem_json_shape() -> None:
    response = anonymous().get("/shops/1")
    assert response.status == 401
    assert set(response.body) == {"type", "title", "status", "code", "detail", "instance"}
    assert response.body["instance"] == "/api/v1/shops/1"
    missing = as_persona("mall-ops-1").get("/shops/99999999")
    assert missing.body["code"] == "not_found"
    assert missing.body["status"] == 404


@pytest.mark.django_db
def test_unknown_api_path_is_problem_json() -> None:
    response = anonymous().get("/no-such-thing")
    assert response.status == 404


@pytest.mark.django_db
@pytest.mark.parametrize("payload", ["[1, 2", "null", '"text"', '{"phone": 13800000000}'])
def test_malformed_bodies_are_4xx_not_500(payload: str) -> None:
    response = anonymous().post("/auth/sms-codes", payload)
    assert 400 <= response.status < 500, response.body


@pytest.mark.django_db
def test_idempotent_run_runs_once_and_detects_other_bodies() -> None:
    calls: list[int] = []

    def run() -> tuple[int, dict[str, int]]:
        calls.append(1)
        return 201, {"n": len(calls)}

    first = idempotent_run(owner="user:1", scope="test", key="k1", body={"a": 1}, run=run)
    second = idempotent_run(owner="user:1", scope="test", key="k1", body={"a": 1}, run=run)
    assert first == second == (201, {"n": 1})
    assert calls == [1]
    with pytest.raises(IdempotencyKeyReused):
        idempotent_run(owner="user:1", scope="test", key="k1", body={"a": 2}, run=run)
    # another owner may use the same key
    assert idempotent_run(owner="user:2", scope="test", key="k1", body={"a": 2}, run=run) == (
        201,
        {"n": 2},
    )
    assert IdempotencyRecord.objects.filter(key="k1").count() == 2


@pytest.mark.django_db
def test_request_id_is_echoed() -> None:
    response = anonymous().get("/malls", headers={"X-Request-ID": "abc123"})
    assert response.headers["X-Request-ID"] == "abc123"


def test_json_log_lines() -> None:
    record = logging.LogRecord("agora.test", logging.INFO, __file__, 1, "hello %s", ("世界",), None)
    record.shop_id = 7
    line = json.loads(JsonFormatter().format(record))
    assert (line["event"], line["level"], line["shop_id"]) == ("hello 世界", "info", 7)


def test_settings_are_zh_hans_shanghai() -> None:
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.SMS_CODE_TTL_SECONDS <= 600


@pytest.mark.django_db
def test_sqlite_runs_in_wal_with_busy_timeout() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    # an in-memory test database cannot use WAL; check a file database opened the same way
    code = (
        "import django, os; os.environ['DATABASE_URL']='sqlite:////tmp/agora-wal-check.sqlite3';"
        "os.environ['DJANGO_SETTINGS_MODULE']='agora.settings'; django.setup();"
        "from django.db import connection; c=connection.cursor();"
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA busy_timeout').fetchone()[0],"
        "connection.settings_dict['OPTIONS']['transaction_mode'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.split() == ["wal", "20000", "IMMEDIATE"]


def test_bad_environment_fails_loudly() -> None:
    code = "import os; os.environ['SMS_CODE_TTL_SECONDS']='900'; import agora.settings"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    assert "SMS_CODE_TTL_SECONDS must be at most 600" in out.stderr


def test_anonymous_actor_has_no_roles() -> None:
    assert ANONYMOUS.roles() == []
    assert ANONYMOUS.is_authenticated is False


def test_redis_cache_when_redis_url_is_set(redis_url: str) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='agora.settings'; django.setup();"
        "from django.core.cache import cache; from django.conf import settings;"
        "cache.set('agora-test-key', '你好', 5); print(settings.CACHES['default']['BACKEND'], cache.get('agora-test-key'));"
        "cache.delete('agora-test-key')"
    )
    env = {**__import__("os").environ, "REDIS_URL": redis_url}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["django.core.cache.backends.redis.RedisCache", "你好"]


@pytest.mark.django_db
def test_api_docs_load_their_assets_locally() -> None:
    from django.test import Client

    html = Client().get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "https://" not in html
