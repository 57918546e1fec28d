"""Client files for staff: through a permission check, always a download, never sniffed."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from engagements.choices import TaskStatus
from engagements.models import DocumentUpload
from tests.factories import EngagementFactory, TaskFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n<html><script>alert(1)</script>\n%%EOF"


@pytest.fixture
def upload(settings, tmp_path, alice):
    settings.MEDIA_ROOT = tmp_path / "media"
    engagement = EngagementFactory()
    TaskFactory(engagement=engagement, assignee=alice, status=TaskStatus.ACCEPTED)
    upload = DocumentUpload(
        engagement=engagement,
        original_name="Nov statement.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256="0" * 64,
    )
    upload.file.save("stored-name.pdf", ContentFile(PDF), save=True)
    return upload


def url(upload: DocumentUpload) -> str:
    return reverse("engagements:document-download", args=[upload.engagement_id, upload.pk])


def test_staff_on_the_engagement_download_it_as_an_attachment(client, alice, upload):
    client.force_login(alice.user)

    response = client.get(url(upload))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    response.close()
    assert response["Content-Disposition"] == 'attachment; filename="Nov statement.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]


def test_managers_download_any_client_file(client, manager, upload):
    client.force_login(manager.user)

    response = client.get(url(upload))

    assert response.status_code == 200
    response.close()


def test_other_staff_are_refused_without_learning_the_file_exists(client, bob, upload):
    client.force_login(bob.user)

    response = client.get(url(upload))

    assert response.status_code == 404
    assert b"Nov statement" not in response.content


def test_a_file_of_another_engagement_is_not_reachable_through_this_one(client, manager, upload):
    other = EngagementFactory()
    client.force_login(manager.user)

    response = client.get(reverse("engagements:document-download", args=[other.pk, upload.pk]))

    assert response.status_code == 404


def test_a_file_gone_from_storage_is_a_404_not_a_500(client, manager, upload):
    upload.file.delete(save=False)
    client.force_login(manager.user)

    response = client.get(url(upload))

    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in(client, upload):
    response = client.get(url(upload))

    assert response.status_code == 302 and "/login/" in response["Location"]


def test_download_refuses_post(client, alice, upload):
    client.force_login(alice.user)

    assert client.post(url(upload)).status_code == 405
