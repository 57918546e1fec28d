"""Real services for integration tests: Redis, PostgreSQL and a Celery worker.

Locally each fixture skips with the reason when its service is absent; with
CI=true (``.ci/run``) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from config.celery import app as celery_app
from tests.conftest import require_service


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis that settings use as broker and cache (REDIS_URL), answering a PING."""
    url = settings.REDIS_URL
    require_service(bool(url), "needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        error = ""
    except redis.RedisError as exc:
        error = str(exc)
    finally:
        client.close()
    require_service(not error, f"needs Redis at {url}, which did not answer: {error}")
    return url


@pytest.fixture
def shared_database_url(transactional_db, django_db_serialized_rollback) -> str:
    """A DATABASE_URL for the test database that another process can open.

    Only PostgreSQL qualifies: SQLite's test database lives in this process's memory.
    Data must be committed to be seen there, hence ``transactional_db``; the
    serialized rollback puts back the rows migrations seed (roles, work types,
    skill tags), which a transactional test's flush would otherwise wipe.
    """
    require_service(
        connection.vendor == "postgresql",
        "needs PostgreSQL (DATABASE_URL) so a worker process can share the test database",
    )
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{credentials}@{host}{port}/{quote(db['NAME'], safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    """A redis-server of the test's own (no persistence), so the test can stop and restart it."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """Use it as ``redis_url`` (override that fixture) for a broker the test can restart."""
    require_service(bool(shutil.which("redis-server")), "needs redis-server on the PATH")
    server = RedisServer(port=free_port(), workdir=tmp_path)
    server.start()
    yield server
    server.stop()


@dataclass
class WorkerProcess:
    queue: str
    notifications_queue: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def describe(self) -> str:
        state = "running" if self.process.poll() is None else f"exited {self.process.returncode}"
        return f"Celery worker ({state}) output:\n{self.output()}"


def wait_until(
    predicate: Callable[[], bool], *workers: WorkerProcess, seconds: float, poll: float = 0.2
) -> bool:
    """Poll ``predicate`` until it holds, ``seconds`` pass, or a worker exits; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and all(w.process.poll() is None for w in workers):
        if predicate():
            return True
        time.sleep(poll)
    return predicate()


@pytest.fixture
def mail_dir(tmp_path: Path) -> Path:
    """Where the worker's file email backend writes each message it sends."""
    path = tmp_path / "mail"
    path.mkdir()
    return path


def sent_mails(mail_dir: Path) -> list[str]:
    """Every message the file email backend wrote to ``mail_dir``. Count messages, not
    files: the backend names a file by the second and the connection object's id, so
    two connections opened in one second may append to the same file."""
    separator = "\n" + "-" * 79 + "\n"
    return [
        message
        for path in sorted(mail_dir.iterdir())
        for message in path.read_text().split(separator)
        if message.strip()
    ]


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Extra environment for the worker process; tests override this fixture."""
    return {}


@pytest.fixture
def worker_args() -> list[str]:
    """Extra command-line arguments for the worker (e.g. ``-B`` for embedded beat)."""
    return []


@pytest.fixture
def worker_consumes_notifications() -> bool:
    """False: ``celery_worker`` leaves sends to a ``notifications_worker`` (production's split)."""
    return True


@pytest.fixture
def celery_worker(
    redis_url: str,
    shared_database_url: str,
    tmp_path: Path,
    worker_env: dict[str, str],
    worker_args: list[str],
    worker_consumes_notifications: bool,
    settings,
) -> Iterator[WorkerProcess]:
    """A real ``celery worker`` process on the test database, consuming queues of its own.

    Like the run command's worker it consumes the default queue and the
    notifications queue; each test gets fresh names for both, used by what the
    test publishes and by what the worker queues itself.
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    notifications_queue = f"{queue}-notifications"
    # What this process publishes goes to the same queues (Celery reads its
    # configuration through the Django settings).
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    settings.CELERY_NOTIFICATIONS_QUEUE = notifications_queue
    assert celery_app.conf.task_default_queue == queue
    env = {
        **os.environ,
        "DATABASE_URL": shared_database_url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PYTHONUNBUFFERED": "1",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_NOTIFICATIONS_QUEUE": notifications_queue,
        **worker_env,
    }
    log_path = tmp_path / "celery-worker.log"
    consumes = [queue, notifications_queue] if worker_consumes_notifications else [queue]
    worker = WorkerProcess(
        queue=queue,
        notifications_queue=notifications_queue,
        process=_start_worker(consumes, name=queue, env=env, log_path=log_path, args=worker_args),
        log_path=log_path,
        env=env,
    )
    try:
        yield worker
    finally:
        _stop_worker(worker)
        _forget_queues(redis_url, [queue, notifications_queue])


@pytest.fixture
def notifications_worker(celery_worker: WorkerProcess, tmp_path: Path) -> Iterator[WorkerProcess]:
    """A second worker, on the notifications queue only (with ``worker_consumes_notifications``
    False, the first one then runs everything else): a send can hang without holding a dispatch."""
    queue = celery_worker.notifications_queue
    log_path = tmp_path / "celery-notifications-worker.log"
    worker = WorkerProcess(
        queue=queue,
        notifications_queue=queue,
        process=_start_worker([queue], name=queue, env=celery_worker.env, log_path=log_path),
        log_path=log_path,
        env=celery_worker.env,
    )
    try:
        yield worker
    finally:
        _stop_worker(worker)


def _start_worker(
    consumes: list[str], *, name: str, env: dict[str, str], log_path: Path, args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        ",".join(consumes),
        "-n",
        f"{name}@%h",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
        "--loglevel=info",
        *args,
    ]
    with log_path.open("wb") as log:
        return subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def _stop_worker(worker: WorkerProcess) -> None:
    """Stop it before the test database is flushed; warm shutdown, then kill."""
    worker.process.terminate()
    try:
        worker.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        worker.process.wait(timeout=5)


def _forget_queues(url: str, queues: list[str]) -> None:
    """Drop the keys kombu keeps for one-off queues so test runs leave Redis clean."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.delete(*queues, *(f"_kombu.binding.{queue}" for queue in queues))
    except redis.RedisError:
        pass
    finally:
        client.close()
