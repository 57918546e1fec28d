"""Child processes a bench starts (a gunicorn server, a Celery worker)."""

from __future__ import annotations

import subprocess


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask ``process`` to finish (SIGTERM: a worker finishes its task), kill it after 30 s."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
