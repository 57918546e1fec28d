from __future__ import annotations

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class WorkerHeartbeat(models.Model):
    """One row per Celery worker host, touched by the beat's heartbeat job.

    The home page reads it to tell people whether background work (dispatch,
    reminders, follow-ups) is actually running.
    """

    hostname = models.CharField(max_length=255, unique=True)
    last_seen_at = models.DateTimeField()
    beats = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.last_seen_at:%Y-%m-%d %H:%M:%S}"


class ChangeStamp(models.Model):
    """A counter per live view, bumped after every commit that changes what it shows.

    Pollers compare the number they have with this one row: an unchanged view costs
    one indexed read, not a re-render. Shared by every process (web, worker, beat).
    """

    name = models.CharField(max_length=40, unique=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"
