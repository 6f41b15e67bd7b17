"""Live free spaces over server-sent events under gunicorn: what open streams cost the rest of
the site. A one-row JSON read is measured against real gunicorn servers on 127.0.0.1, each
figure as a ratio to the sync-worker baseline measured in the same run (the machine is shared
and noisy: ratios travel, absolutes don't).

    .venv/bin/python bench/bench_sse.py
    .venv/bin/python bench/bench_sse.py --seconds 5 --connections 8

  (a)  sync workers (2), no streams: the baseline
  (b)  gthread workers (2 × 32 threads, as ``run.py demo``), no streams; (a) and (b) are
       measured in two interleaved halves each
  (c)  the same gthread server with 20 and with 50 SSE clients on /parking/live/mixc-p/, and
       whether every client got its first ``event: availability`` frame within 2 s
  (c') 50 SSE clients on gthread 2 × 32 with ``--worker-connections 32 --keep-alive 0``
  (d)  sync workers (2) with 2 SSE clients: both workers are held by the streams
  and the latency of a change: an occupancy event applied through ``event_ingest`` in this
  process (same SQLite file) until each of the 20 SSE clients of (c) has the new frame.

The load generator is ``wrk`` when /usr/bin/wrk exists, else Python threads on raw sockets with
persistent connections (reconnecting when the server closes, as sync workers do). The SSE
clients are raw sockets in one selector thread that reconnect like EventSource (after the
``retry`` delay, with ``Last-Event-ID``). Everything lives in a temporary directory that is
removed at the end, and the gunicorn process groups are killed even on error. About 2½ minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WRK = Path("/usr/bin/wrk")
CAR_PARK = "mixc-p"
STREAM_PATH = f"/parking/live/{CAR_PARK}/"
FIRST_FRAME_LIMIT = 2.0  # seconds
# (c'): a gthread worker accepts connections whether or not a thread is free, so 50 streams can
# pile onto one worker (32 running, the rest queued behind them for up to a stream's length)
# while the other idles, and a JSON request accepted by a worker whose threads all hold streams
# waits for one to end. Capping each worker's connections at its threads leaves the surplus in
# the listen backlog, where a worker with a free thread takes it; with no connection slot left
# for keep-alive, keep-alive is turned off explicitly (else gunicorn warns at start).
WORKER_CONNECTIONS = ("--worker-connections", "32", "--keep-alive", "0")


# --- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn agora.wsgi in its own process group; stopped (and killed if need be) on exit."""

    def __init__(
        self, *, tmp: str, db_url: str, worker_class: str, extra: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.worker_class = worker_class
        self.log = Path(tmp) / f"gunicorn-{worker_class}-{self.port}.log"
        cmd = [
            sys.executable,
            "-m",
            "gunicorn",
            "agora.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            "2",
            "--worker-class",
            worker_class,
            "--graceful-timeout",
            "2",
            "--no-control-socket",
            "--log-level",
            "warning",
            "--error-logfile",
            str(self.log),
        ]
        if worker_class == "gthread":
            cmd[cmd.index("--graceful-timeout") : cmd.index("--graceful-timeout")] = [
                "--threads",
                "32",
                *extra,
            ]
        self.label = " ".join(
            [worker_class, *(["--threads 32"] if worker_class == "gthread" else []), *extra]
        )
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "DJANGO_SETTINGS_MODULE": "agora.settings",
            "LOG_LEVEL": "WARNING",
            "SITE_URL": f"http://127.0.0.1:{self.port}",
        }
        self.proc = subprocess.Popen(  # noqa: S603 (our own argv, no shell)
            cmd,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self, probe: str) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                status, _ = http_get(self.port, probe, timeout=2.0)
                if status == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {probe} within 30 s: {self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return self.log.read_text()[-2000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=6)
        # the workers too, should the arbiter have left any behind
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=3)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- one HTTP/1.1 exchange on a raw socket ------------------------------------------------------
def request_bytes(port: int, path: str, extra: str = "") -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: agora-bench\r\n"
        f"Accept: */*\r\n{extra}\r\n"
    ).encode()


def read_response(sock: socket.socket, buf: bytearray) -> tuple[int, bool]:
    """Read one response with a Content-Length (or closed by the server); return its status
    and whether the connection is closed afterwards. ``buf`` keeps bytes read past the end."""
    while (end := buf.find(b"\r\n\r\n")) < 0:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the headers")
        buf += chunk
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    del buf[: end + 4]
    status = int(head[0].split(" ", 2)[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    close = headers.get("connection") == "close" or head[0].startswith("HTTP/1.0")
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(buf) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the body")
            buf += chunk
        del buf[:length]
    elif close:
        while sock.recv(65536):
            pass
        buf.clear()
    else:
        raise ConnectionError("a response with neither Content-Length nor close")
    return status, close


def http_get(port: int, path: str, *, timeout: float) -> tuple[int, float]:
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request_bytes(port, path, "Connection: close\r\n"))
        status, _ = read_response(sock, bytearray())
    return status, time.perf_counter() - t0


# --- the load generator -------------------------------------------------------------------------
@dataclass
class Load:
    seconds: float = 0.0
    done: int = 0
    non_200: int = 0
    p50: float = float("nan")  # ms
    p99: float = float("nan")  # ms
    worst: float = 0.0  # s: the longest wait, counting requests still unanswered at the end
    client_cpu: float = 0.0  # share of one core used by this process while measuring

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0


def merged(parts: list[Load]) -> Load:
    """Interleaved windows of one configuration as one figure (percentiles: their median)."""
    return Load(
        seconds=sum(p.seconds for p in parts),
        done=sum(p.done for p in parts),
        non_200=sum(p.non_200 for p in parts),
        p50=statistics.median(p.p50 for p in parts),
        p99=statistics.median(p.p99 for p in parts),
        worst=max(p.worst for p in parts),
        client_cpu=statistics.mean(p.client_cpu for p in parts),
    )


def load_python(port: int, path: str, *, seconds: float, connections: int) -> Load:
    lock = threading.Lock()
    start = threading.Barrier(connections + 1)
    req = request_bytes(port, path)
    stop_at = 0.0
    latencies: list[float] = []
    totals = {"done": 0, "non_200": 0}
    waits: list[float] = [0.0]

    def worker() -> None:
        done = non_200 = 0
        lat: list[float] = []
        worst = 0.0
        sock: socket.socket | None = None
        buf = bytearray()
        start.wait()
        while (left := stop_at - time.monotonic()) > 0:
            t0 = time.monotonic()
            try:
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=left)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    buf.clear()
                sock.settimeout(max(0.01, left))
                sock.sendall(req)
                status, close = read_response(sock, buf)
            except OSError:  # the window closed on it (or the server dropped it)
                worst = max(worst, min(time.monotonic(), stop_at) - t0)
                if sock is not None:
                    sock.close()
                sock = None
                continue
            now = time.monotonic()
            if now > stop_at:
                worst = max(worst, stop_at - t0)
                break
            lat.append(now - t0)
            worst = max(worst, now - t0)
            done += 1
            non_200 += status != 200
            if close:
                sock.close()
                sock = None
        if sock is not None:
            sock.close()
        with lock:
            totals["done"] += done
            totals["non_200"] += non_200
            latencies.extend(lat)
            waits.append(worst)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    stop_at = time.monotonic() + seconds
    start.wait()
    for t in threads:
        t.join(seconds + 10)
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0

    return Load(
        seconds=seconds,
        done=totals["done"],
        non_200=totals["non_200"],
        p50=pct(0.5),
        p99=pct(0.99),
        worst=max(waits),
        client_cpu=(time.process_time() - cpu0) / seconds,
    )


_WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_PCT = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_WRK_MAX = re.compile(r"Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)")
_SCALE = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


def load_wrk(port: int, path: str, *, seconds: float, connections: int) -> Load:
    out = subprocess.run(  # noqa: S603 (a fixed argv, no shell)
        [
            str(WRK),
            "-t",
            "2",
            "-c",
            str(connections),
            "-d",
            f"{seconds:g}s",
            "--timeout",
            f"{seconds:g}s",
            "--latency",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    ).stdout
    result = Load(seconds=seconds, p50=0.0, p99=0.0)
    if m := _WRK_RPS.search(out):
        result.done = round(float(m.group(1)) * seconds)
    if m := _WRK_NON2XX.search(out):
        result.non_200 = int(m.group(1))
    for q, value, unit in _WRK_PCT.findall(out):
        setattr(result, f"p{q}", float(value) * _SCALE[unit] * 1000)
    if m := _WRK_MAX.search(out):
        result.worst = float(m.group(1)) * _SCALE[m.group(2)]
    if result.done == 0:
        result.worst = seconds  # nothing answered: every request waited the whole window
    return result


def load(port: int, path: str, *, seconds: float, connections: int) -> Load:
    fn = load_wrk if WRK.exists() else load_python
    return fn(port, path, seconds=seconds, connections=connections)


# --- SSE clients --------------------------------------------------------------------------------
@dataclass
class SseClient:
    index: int
    sock: socket.socket | None = None
    raw: bytearray = field(default_factory=bytearray)
    text: bytearray = field(default_factory=bytearray)
    headers_done: bool = False
    chunked: bool = False
    chunk_left: int = -1  # -1: a size line is next
    opened_at: float = 0.0
    first_frame: float | None = None  # seconds from the first connect to the first frame
    last_id: str = ""
    retry: float = 1.0
    reconnect_at: float | None = None
    reconnects: int = 0
    seen: list[tuple[int, float]] = field(default_factory=list)  # (frame id, when)


class SseHub:
    """``n`` EventSource-like clients of one stream, read by one selector thread."""

    def __init__(self, port: int, path: str, n: int) -> None:
        self.port, self.path = port, path
        self.clients = [SseClient(i) for i in range(n)]
        self.sel = selectors.DefaultSelector()
        self.lock = threading.Lock()
        self.running = True
        self.errors = 0
        self.started = time.monotonic()
        for c in self.clients:
            self._connect(c)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _connect(self, c: SseClient) -> None:
        extra = "Accept: text/event-stream\r\nCache-Control: no-cache\r\n"
        if c.last_id:
            extra += f"Last-Event-ID: {c.last_id}\r\n"
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
            sock.sendall(request_bytes(self.port, self.path, extra))
        except OSError:
            self.errors += 1
            c.reconnect_at = time.monotonic() + c.retry
            return
        sock.setblocking(False)
        c.sock, c.raw, c.text = sock, bytearray(), bytearray()
        c.headers_done, c.chunked, c.chunk_left = False, False, -1
        c.reconnect_at = None
        if not c.opened_at:
            c.opened_at = time.monotonic()
        self.sel.register(sock, selectors.EVENT_READ, c)

    def _drop(self, c: SseClient) -> None:
        if c.sock is not None:
            self.sel.unregister(c.sock)
            c.sock.close()
            c.sock = None
        c.reconnect_at = time.monotonic() + c.retry  # EventSource waits ``retry`` first

    def _run(self) -> None:
        while self.running:
            for key, _ in self.sel.select(timeout=0.05):
                c: SseClient = key.data
                try:
                    data = c.sock.recv(65536) if c.sock is not None else b""
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._drop(c)
                    c.reconnects += 1
                    continue
                self._feed(c, data)
            now = time.monotonic()
            for c in self.clients:
                if c.sock is None and c.reconnect_at is not None and now >= c.reconnect_at:
                    self._connect(c)

    def _feed(self, c: SseClient, data: bytes) -> None:
        c.raw += data
        if not c.headers_done:
            end = c.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(c.raw[:end]).decode("latin-1").lower()
            if " 200 " not in head.split("\r\n", 1)[0]:
                self.errors += 1
            c.chunked = "transfer-encoding: chunked" in head
            c.headers_done = True
            del c.raw[: end + 4]
        if not c.chunked:
            c.text += c.raw
            c.raw.clear()
        else:
            while True:
                if c.chunk_left < 0:
                    line_end = c.raw.find(b"\r\n")
                    if line_end < 0:
                        break
                    c.chunk_left = int(bytes(c.raw[:line_end]).split(b";")[0], 16)
                    del c.raw[: line_end + 2]
                    if c.chunk_left == 0:  # the end of the stream; the server closes
                        break
                if len(c.raw) < c.chunk_left + 2:
                    break
                c.text += c.raw[: c.chunk_left]
                del c.raw[: c.chunk_left + 2]
                c.chunk_left = -1
        while (end := c.text.find(b"\n\n")) >= 0:
            block = bytes(c.text[:end]).decode()
            del c.text[: end + 2]
            fields: dict[str, str] = {}
            for line in block.split("\n"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            if "retry" in fields and fields["retry"].isdigit():
                c.retry = int(fields["retry"]) / 1000
            if fields.get("event") == "availability":
                now = time.monotonic()
                with self.lock:
                    if c.first_frame is None:
                        c.first_frame = now - c.opened_at
                    c.last_id = fields.get("id", c.last_id)
                    if c.last_id.isdigit():
                        c.seen.append((int(c.last_id), now))

    def wait_first_frames(self, limit: float) -> None:
        deadline = self.started + limit + 0.5
        while time.monotonic() < deadline:
            with self.lock:
                if all(c.first_frame is not None for c in self.clients):
                    return
            time.sleep(0.02)

    def first_frames(self) -> list[float | None]:
        with self.lock:
            return [c.first_frame for c in self.clients]

    def seen_at(self, version: int) -> list[float | None]:
        """When each client first had a frame with id ≥ ``version``."""
        with self.lock:
            return [next((t for v, t in c.seen if v >= version), None) for c in self.clients]

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        for c in self.clients:
            if c.sock is not None:
                # RST at once, so the server's next keep-alive write fails and frees its thread
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                c.sock.close()
                c.sock = None
        self.sel.close()

    def __enter__(self) -> SseHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def streams(port: int, n: int, *, settle: float = 2.0) -> Iterator[SseHub]:
    hub = SseHub(port, STREAM_PATH, n)
    try:
        hub.wait_first_frames(FIRST_FRAME_LIMIT)
        yield hub
    finally:
        hub.close()
        time.sleep(settle)  # the server notices at its next keep-alive write and ends them


# --- changes of free spaces ---------------------------------------------------------------------
def change_latency(hub: SseHub, *, changes: int) -> tuple[list[float], list[float], int]:
    """Apply ``changes`` occupancy events on free spaces; return every client's delay, the
    slowest client's delay per change (seconds) and how many (change, client) pairs never saw
    the frame within 3 s."""
    from django.utils import timezone

    from agora.parking.models import CarPark, Space
    from agora.parking.services.ingest import event_ingest

    car_park = CarPark.objects.get(code=CAR_PARK)
    free = list(
        Space.objects.filter(car_park=car_park, in_service=True, occupied=False)
        .order_by("code")
        .values_list("code", flat=True)
    )
    if len(free) < changes:
        raise RuntimeError(f"{CAR_PARK} has only {len(free)} free spaces")
    every: list[float] = []
    slowest: list[float] = []
    missed = 0
    rng = random.Random(42)
    for i, code in enumerate(free[:changes]):
        time.sleep(rng.uniform(0.2, 1.0))  # a random phase against the streams' 1 s poll
        result = event_ingest(
            payload={
                "event_id": f"bench-sse-{os.getpid()}-{i}",
                "type": "occupancy",
                "car_park": CAR_PARK,
                "space": code,
                "occupied": True,
                "at": timezone.now().isoformat(),
            },
            topic=None,
            via="simulator",
        )
        applied_at = time.monotonic()
        if result.outcome != "applied":
            raise RuntimeError(f"occupancy event not applied: {result}")
        version = CarPark.objects.get(pk=car_park.pk).availability_version
        deadline = applied_at + 3
        while time.monotonic() < deadline:
            if all(t is not None for t in hub.seen_at(version)):
                break
            time.sleep(0.01)
        delays = [t - applied_at for t in hub.seen_at(version) if t is not None]
        missed += len(hub.clients) - len(delays)
        every.extend(max(0.0, d) for d in delays)
        if delays:
            slowest.append(max(0.0, max(delays)))
    return every, slowest, missed


# --- the run ------------------------------------------------------------------------------------
@dataclass
class Row:
    key: str
    server: str
    load: Load
    sse: int = 0
    first_frames: list[float | None] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--connections", type=int, default=8, help="JSON client connections")
    parser.add_argument("--changes", type=int, default=10)
    args = parser.parse_args()

    began = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="agora-bench-sse-")
    db_url = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ["DATABASE_URL"] = db_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "agora.settings"
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        run(args, tmp=tmp, db_url=db_url)
    finally:
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total {time.monotonic() - began:.0f} s, load average now {os.getloadavg()[0]:.1f}")


def run(args: argparse.Namespace, *, tmp: str, db_url: str) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from agora.district.demo import SMALL, build_demo
    from agora.district.models import Mall

    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    build_demo(seed=42, config=SMALL)
    print(f"SMALL demo built in {time.perf_counter() - t0:.1f} s")
    mall = Mall.objects.order_by("id").first()
    assert mall is not None
    path = f"/api/v1/malls/{mall.pk}"
    secs, conns = args.seconds, args.connections
    generator = "wrk" if WRK.exists() else "Python threads on raw sockets, keep-alive"
    stream_s = getattr(settings, "PARKING_STREAM_SECONDS", 25.0)
    print(
        f"JSON read: GET {path} from {conns} connections, {secs:g} s a figure ({generator})\n"
        f"SSE: GET {STREAM_PATH}, streams of {stream_s:g} s; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} before the run"
    )

    rows: list[Row] = []
    every: list[float] = []
    slowest: list[float] = []
    missed = reconnects = 0
    with contextlib.ExitStack() as stack:
        # three servers side by side (an idle one costs nothing), so that (a) and (b) can be
        # interleaved and later phases need no restart
        servers = []
        for worker_class, extra in (("sync", ()), ("gthread", ()), ("gthread", WORKER_CONNECTIONS)):
            srv = Server(tmp=tmp, db_url=db_url, worker_class=worker_class, extra=extra)
            stack.callback(srv.stop)
            servers.append(srv)
        for srv in servers:
            srv.wait_ready(path)
            load(srv.port, path, seconds=0.5, connections=conns)  # warm up
        sync, gthread, capped = servers

        # (a) and (b): two interleaved halves each
        parts: dict[str, list[Load]] = {"a": [], "b": []}
        for _ in range(2):
            for key, srv in (("a", sync), ("b", gthread)):
                parts[key].append(load(srv.port, path, seconds=secs / 2, connections=conns))
        rows.append(Row("a", sync.label, merged(parts["a"])))
        rows.append(Row("b", gthread.label, merged(parts["b"])))

        # (c) gthread with 20, then 50 streams; the change latency with the 20
        with streams(gthread.port, 20) as hub:
            got = load(gthread.port, path, seconds=secs, connections=conns)
            rows.append(Row("c", gthread.label, got, 20, hub.first_frames()))
            every, slowest, missed = change_latency(hub, changes=args.changes)
            reconnects = sum(c.reconnects for c in hub.clients)
        with streams(gthread.port, 50) as hub:
            got = load(gthread.port, path, seconds=secs, connections=conns)
            rows.append(Row("c", gthread.label, got, 50, hub.first_frames()))
        # (c') the same 50 with each worker's connections capped
        with streams(capped.port, 50, settle=0) as hub:
            got = load(capped.port, path, seconds=secs, connections=conns)
            rows.append(Row("c'", capped.label, got, 50, hub.first_frames()))

        # (d) sync workers, 2 streams: nothing else gets a worker until a stream ends
        with streams(sync.port, 2, settle=0) as hub:
            got = load(sync.port, path, seconds=secs, connections=conns)
            rows.append(Row("d", sync.label, got, 2, hub.first_frames()))

    base = rows[0].load.rps
    print(
        f"\n{'':3} {'server (2 workers)':58} {'SSE':>3} {'req/s':>6} {'× (a)':>6} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'max s':>6} {'non-200':>7}  first frame ≤ {FIRST_FRAME_LIMIT:g} s"
    )
    for r in rows:
        ff = ""
        if r.sse:
            got_ff = [f for f in r.first_frames if f is not None]
            ok = sum(f <= FIRST_FRAME_LIMIT for f in got_ff)
            ff = f"{ok}/{r.sse}"
            if got_ff:
                ff += f", slowest {max(got_ff):.2f} s"
            if len(got_ff) < r.sse:
                ff += f", {r.sse - len(got_ff)} none by the end"
        lo = r.load
        print(
            f"{'(' + r.key + ')':3} {r.server:58} {r.sse:3d} {lo.rps:6.0f} {lo.rps / base:6.2f} "
            f"{lo.p50:7.1f} {lo.p99:7.1f} {lo.worst:6.2f} {lo.non_200:7d}  {ff}"
        )
    if every:
        ms = [d * 1000 for d in every]
        worst_ms = [d * 1000 for d in slowest]
        print(
            f"\nchange → frame, {args.changes} occupancy events (event_ingest, via simulator) with "
            f"the 20 SSE clients of (c) connected:\n"
            f"  every client: median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms; "
            f"slowest client of each change: median {statistics.median(worst_ms):.0f} ms, "
            f"max {max(worst_ms):.0f} ms; missed (none within 3 s) {missed}; "
            f"stream reconnects meanwhile {reconnects}"
        )
    cpu = statistics.mean(r.load.client_cpu for r in rows)
    print(
        f"\n'max s': the longest wait of a JSON request, counting those still unanswered when "
        f"the window closed. The load generator used {cpu:.0%} of a core on average: it shares "
        f"the machine with the server, so compare the ratios, not the absolutes."
    )


if __name__ == "__main__":
    main()
