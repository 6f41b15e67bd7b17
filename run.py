#!/usr/bin/env python3
"""Agora's two set-up commands for a fresh clone (needs only Python 3.12+):

    python3 run.py demo    install, build the demo district on SQLite, serve it
    python3 run.py test    install, run every check and the whole test suite

See README.md. Everything is installed into .venv from the hashed lock files.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
CI = os.environ.get("CI", "").lower() == "true"


def say(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def run(*cmd: str | Path, env: dict[str, str] | None = None, check: bool = True) -> int:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        sys.exit(result.returncode)
    return result.returncode


def ensure_python() -> None:
    if sys.version_info < (3, 12):
        sys.exit(
            f"Agora needs Python 3.12 or newer; this is {sys.version.split()[0]}. "
            "Run it with python3.12 (pyenv reads .python-version)."
        )


def install(lock: str) -> None:
    stamp = VENV / f".installed-{lock}"
    lock_path = ROOT / "requirements" / f"{lock}.lock"
    if not PY.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    if stamp.exists() and stamp.read_text() == lock_path.read_text():
        return
    say(f"installing requirements/{lock}.lock")
    run(
        PY,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "-r",
        lock_path,
    )
    stamp.write_text(lock_path.read_text())


def manage(*args: str, env: dict[str, str] | None = None, check: bool = True) -> int:
    return run(PY, "manage.py", *args, env=env, check=check)


def reachable(url: str, port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or port), 3):
            return True
    except OSError:
        return False


def demo() -> None:
    install("base")
    port = os.environ.get("PORT", "8000")
    default_db = f"sqlite:///{ROOT / 'var' / 'demo.sqlite3'}"
    env = {
        "DATABASE_URL": os.environ.get("DATABASE_URL", default_db),
        # payment QR codes and provider notifications point at this origin
        "SITE_URL": os.environ.get("SITE_URL", f"http://127.0.0.1:{port}"),
    }
    say("migrating the database")
    manage("migrate", "--noinput", "-v", "0", env=env)
    say("building the demo district (seed 42; skipped when it is already there)")
    manage("demo_district", "--seed", "42", "--if-empty", env=env)
    say(f"Agora is serving at http://127.0.0.1:{port}/  (Ctrl-C stops it)")
    print(
        f"    operator console http://127.0.0.1:{port}/ops/   API docs http://127.0.0.1:{port}/api/docs"
    )
    os.execv(
        str(PY),
        [
            str(PY),
            "-m",
            "gunicorn",
            "agora.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "32",
            "--worker-connections",
            "32",
            "--keep-alive",
            "0",
            "--access-logfile",
            "-",
            "--no-control-socket",
            "--env",
            f"DATABASE_URL={env['DATABASE_URL']}",
            "--env",
            f"SITE_URL={env['SITE_URL']}",
        ],
    )


def ensure_chromium() -> None:
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    fonts = Path("/usr/share/fonts/opentype/noto")
    if Path(chromium).exists() and fonts.exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Debian's chromium and fonts-noto-cjk for the browser tests")
        run("apt-get", "update", "-qq", check=False)
        run(
            "apt-get",
            "install",
            "-y",
            "-qq",
            "chromium",
            "fonts-noto-cjk",
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )
    if not Path(chromium).exists():
        sys.exit(f"chromium not found at {chromium}: install Debian's chromium and fonts-noto-cjk")


def test(extra: list[str]) -> None:
    install("dev")
    ensure_chromium()
    env = {"SQLITE_TEST_NAME": "", "DATABASE_URL": f"sqlite:///{ROOT / 'var' / 'test.sqlite3'}"}
    say("static checks: ruff, mypy, import-linter, migrations, OpenAPI drift, translations")
    run(PY, "-m", "ruff", "format", "--check", "--quiet", ".")
    run(PY, "-m", "ruff", "check", "--quiet", ".")
    run(PY, "-m", "mypy", "agora")
    run(VENV / "bin" / "lint-imports", "--no-cache")
    manage("makemigrations", "--check", "--dry-run", "-v", "1", env=env)
    manage("export_openapi", "--check", env=env)
    pg_url = os.environ.get(
        "AGORA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
    )
    pg_up = reachable(pg_url, 5432)
    if not pg_up and CI:
        sys.exit(f"PostgreSQL at {pg_url} is unreachable: CI fails rather than skips")
    say("test suite on SQLite (with the browser tests)")
    run(PY, "-m", "pytest", "-q", *extra, env=env)
    if pg_up:
        say("test suite on PostgreSQL")
        run(PY, "-m", "pytest", "-q", "-m", "not browser", *extra, env={"DATABASE_URL": pg_url})
    else:
        print(
            f"PostgreSQL at {pg_url} is not reachable: skipped the PostgreSQL run (CI would fail)"
        )


def main() -> None:
    ensure_python()
    if len(sys.argv) < 2 or sys.argv[1] not in {"demo", "test"}:
        sys.exit(__doc__)
    if sys.argv[1] == "demo":
        demo()
    else:
        test(sys.argv[2:])


if __name__ == "__main__":
    main()
