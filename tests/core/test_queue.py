"""Publishing by task name: every name a service enqueues (and every beat entry) is a
registered Celery task, and a broker that refuses never fails the caller."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app
from core import queue

SOURCE_APPS = [
    path
    for path in Path(settings.BASE_DIR).iterdir()
    if (path / "apps.py").exists() or path.name == "core"
]


def _module_constants(tree: ast.AST) -> dict[str, str]:
    return {
        target.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _enqueued_names() -> set[str]:
    """Task names passed to enqueue/publish: literals, or constants holding one (the
    module's own, else one of that name in another module: an imported constant)."""
    trees = [
        ast.parse(path.read_text())
        for app in SOURCE_APPS
        for path in app.rglob("*.py")
        # The helper itself passes its caller's name through.
        if "migrations" not in path.parts and path != Path(queue.__file__)
    ]
    everywhere: dict[str, str] = {}
    for tree in trees:
        everywhere |= {k: v for k, v in _module_constants(tree).items() if k.endswith("_TASK")}
    names: set[str] = set()
    for tree in trees:
        constants = everywhere | _module_constants(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called not in {"enqueue", "publish"}:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
            elif isinstance(first, ast.Name):
                names.add(constants.get(first.id, f"<{first.id}>"))
    return names


def test_every_enqueued_task_name_is_registered_with_celery():
    celery_app.loader.import_default_modules()
    names = _enqueued_names()

    assert {"dispatch.tasks.task_dispatch_task", "notifications.tasks.notification_send_task"} <= (
        names
    )
    assert names - set(celery_app.tasks) == set()


def test_every_beat_entry_names_a_registered_task_and_expires():
    celery_app.loader.import_default_modules()
    for key, entry in celery_app.conf.beat_schedule.items():
        assert entry["task"] in celery_app.tasks, key
        assert 0 < entry["options"]["expires"] <= entry["schedule"], key


def test_publish_refused_by_the_broker_is_logged_not_raised(monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(celery_app, "send_task", refuse)
    with caplog.at_level(logging.WARNING, logger="core.queue"):
        published = queue.publish("dispatch.tasks.task_dispatch_task", 1, "manual")

    assert published is False
    assert "stays pending and will be re-queued" in caplog.text


@pytest.mark.django_db
def test_enqueue_publishes_only_after_commit(monkeypatch, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(queue, "publish", lambda name, *args, **kw: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        queue.enqueue("dispatch.tasks.task_dispatch_task", 7, "manual")
    assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [("dispatch.tasks.task_dispatch_task", (7, "manual"))]
