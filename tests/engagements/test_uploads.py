"""The client's upload link: signed, expiring, no login; files checked by name and by
bytes, stored under random names; a complete checklist moves the engagement on."""

from __future__ import annotations

import io
import re
import time
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagements.choices import Milestone, TaskRole
from engagements.models import DocumentUpload, Engagement, RequiredDocument, WorkType
from engagements.services import engagement_create
from engagements.uploads import (
    SALT,
    document_upload_store,
    file_check,
    read_upload_token,
    safe_original_name,
    upload_token,
    upload_url,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


def package(*names: str) -> bytes:
    """A zip with these members, as an Office file (or a fake one) would be."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


XLSX = package("[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml")
DOCX = package("[Content_Types].xml", "word/document.xml")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def dispatched(broker) -> list[tuple[int, str]]:
    return broker.dispatches


@pytest.fixture
def engagement(db) -> Engagement:
    """Monthly bookkeeping, waiting for "Bank statements" and "Credit card statements"."""
    return engagement_create(
        client=ClientFactory(name="Harbor Point Dental"),
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        due_date=date(2026, 12, 15),
    )


def page_url(engagement: Engagement) -> str:
    return reverse("engagements:document-upload", args=[upload_token(engagement_id=engagement.pk)])


def doc(engagement: Engagement, name: str) -> RequiredDocument:
    return engagement.required_documents.get(name=name)


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def raw_post(client, url: str, document: RequiredDocument, filename: str, content: bytes):
    """A multipart body built by hand: the test client would clean ``filename`` first,
    and an attacker's client does not."""
    boundary = "closeloop-test-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="document"\r\n\r\n'
            f"{document.pk}\r\n"
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(url, body, content_type=f"multipart/form-data; boundary={boundary}")


def post(client, url: str, document: RequiredDocument | str, name: str, content: bytes, **kw):
    value = document if isinstance(document, str) else str(document.pk)
    upload = SimpleUploadedFile(name, content, content_type="application/pdf")
    return client.post(url, {"document": value, "file": upload}, **kw)


# --- The page ------------------------------------------------------------------


def test_upload_page_shows_checklist_to_anonymous_client_without_staff_navigation(
    client, engagement, settings
):
    settings.FIRM_NAME = "Ledger & Co CPAs"

    response = client.get(page_url(engagement))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Ledger &amp; Co CPAs" in body
    assert "Monthly bookkeeping" in body and "Harbor Point Dental" in body
    assert "Bank statements" in body and "Credit card statements" in body
    assert body.count("Outstanding") == 2
    assert 'aria-label="Main"' not in body and "Log out" not in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]


def test_upload_page_query_count_is_constant_in_checklist_and_files(client, engagement, media):
    small = CaptureQueriesContext(connection)
    with small:
        client.get(page_url(engagement))
    for index in range(6):
        RequiredDocument.objects.create(engagement=engagement, name=f"Statement {index}")
    for index in range(3):
        post(client, page_url(engagement), "other", f"extra-{index}.pdf", PDF)

    large = CaptureQueriesContext(connection)
    with large:
        response = client.get(page_url(engagement))

    assert response.content.decode().count("Outstanding") == 8
    assert len(large) == len(small) <= 3


def test_upload_link_is_absolute_and_reads_back_to_its_engagement(engagement, settings):
    settings.SITE_URL = "https://closeloop.example"

    url = upload_url(engagement)

    assert url.startswith("https://closeloop.example/uploads/")
    assert read_upload_token(url.rstrip("/").rsplit("/", 1)[1]) == engagement.pk


# --- Good uploads ----------------------------------------------------------------


def test_good_upload_marks_item_received_and_stores_a_random_name(client, engagement, media):
    item = doc(engagement, "Bank statements")

    response = post(client, page_url(engagement), item, "Nov statement.pdf", PDF)

    assert response.status_code == 302
    # Back to the same engagement's page (the token is signed anew, its timestamp may differ).
    location = response["Location"]
    assert location.startswith("/uploads/")
    assert read_upload_token(location.rstrip("/").rsplit("/", 1)[1]) == engagement.pk
    upload = DocumentUpload.objects.get()
    item.refresh_from_db()
    assert item.received_at is not None
    assert upload.required_document == item
    assert upload.original_name == "Nov_statement.pdf"
    assert upload.content_type == "application/pdf"
    assert upload.size == len(PDF)
    assert re.fullmatch(r"[0-9a-f]{64}", upload.sha256)
    assert re.fullmatch(r"uploads/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", upload.file.name)
    assert stored_files(media) == [media / upload.file.name]
    assert (media / upload.file.name).read_bytes() == PDF
    followed = client.get(response["Location"]).content.decode()
    assert "Thank you: we received Nov_statement.pdf." in followed
    assert "Received" in followed and followed.count("Outstanding") == 1


def test_htmx_upload_returns_only_the_panel_with_the_checklist_updated(client, engagement, media):
    response = post(
        client,
        page_url(engagement),
        doc(engagement, "Bank statements"),
        "bank.pdf",
        PDF,
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="upload-panel">')
    assert "<html" not in body
    assert "we received bank.pdf" in body
    assert body.count("Outstanding") == 1


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("scan.png", PNG, "image/png"),
        ("scan.JPG", JPEG, "image/jpeg"),
        ("scan.jpeg", JPEG, "image/jpeg"),
        ("ledger.csv", "Date,Payee,Amount\n2026-11-02,Café Nord,12.50\n".encode(), "text/csv"),
        ("ledger.csv", "Date,Payee\n2026-11-02,Café\n".encode("cp1252"), "text/csv"),
        (
            "book.xlsx",
            XLSX,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            "letter.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_allowed_types_are_accepted_by_their_bytes(name, content, content_type):
    checked = file_check(SimpleUploadedFile(name, content, content_type="text/html"))

    assert checked.content_type == content_type  # ours, never the browser's


def test_completing_the_checklist_advances_engagement_and_queues_dispatch(
    client, engagement, media, dispatched, django_capture_on_commit_callbacks
):
    url = page_url(engagement)
    preparer = engagement.tasks.get(role=TaskRole.PREPARER)

    with django_capture_on_commit_callbacks(execute=True):
        post(client, url, doc(engagement, "Bank statements"), "bank.pdf", PDF)
    engagement.refresh_from_db()
    assert engagement.milestone == Milestone.DOCUMENTS_REQUESTED
    assert dispatched == []

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url, doc(engagement, "Credit card statements"), "card.pdf", PDF)

    engagement.refresh_from_db()
    assert response.status_code == 302
    assert engagement.milestone == Milestone.DOCUMENTS_RECEIVED
    assert dispatched == [(preparer.pk, "documents_received")]
    assert "We have everything on the list" in client.get(url).content.decode()


def test_second_copy_of_received_item_is_kept_and_dispatches_nothing_more(
    client, engagement, media, dispatched, django_capture_on_commit_callbacks
):
    url = page_url(engagement)
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("Bank statements", "Credit card statements"):
            post(client, url, doc(engagement, name), "a.pdf", PDF)
    dispatched.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, url, doc(engagement, "Bank statements"), "corrected.pdf", PDF)

    assert response.status_code == 302
    assert DocumentUpload.objects.count() == 3
    assert dispatched == []


def test_upload_not_on_the_checklist_is_kept_without_receiving_anything(client, engagement, media):
    response = post(client, page_url(engagement), "other", "extra.pdf", PDF)

    assert response.status_code == 302
    assert DocumentUpload.objects.get().required_document is None
    assert not RequiredDocument.objects.filter(received_at__isnull=False).exists()


# --- Refused files: a clear 4xx, nothing stored ------------------------------------


def assert_nothing_stored(engagement: Engagement, media: Path) -> None:
    assert DocumentUpload.objects.count() == 0
    assert stored_files(media) == []
    assert not engagement.required_documents.filter(received_at__isnull=False).exists()
    engagement.refresh_from_db()
    assert engagement.milestone == Milestone.DOCUMENTS_REQUESTED


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", EXE, "Files of this type cannot be uploaded"),
        ("page.html", HTML, "Files of this type cannot be uploaded"),
        ("statement", PDF, "Files of this type cannot be uploaded"),
        ("archive.zip", XLSX, "Files of this type cannot be uploaded"),
        ("invoice.pdf", EXE, "This file is not a real PDF"),
        ("invoice.pdf", HTML, "This file is not a real PDF"),
        ("scan.png", PDF, "This file is not a real PNG image"),
        ("scan.jpg", PNG, "This file is not a real JPEG image"),
        ("ledger.csv", EXE, "This file is not a real CSV file"),
        ("ledger.csv", b"  " + HTML, "This file is not a real CSV file"),
        ("ledger.csv", b"\x81\x8d\x8f\x90\x9d", "This file is not a real CSV file"),
        ("book.xlsx", PDF, "This file is not a real Excel workbook"),
        ("book.xlsx", package("a.txt"), "This file is not a real Excel workbook"),
        ("book.xlsx", DOCX, "This file is not a real Excel workbook"),
        ("book.xlsx", b"PK\x03\x04 not really a zip", "This file is not a real Excel workbook"),
        ("letter.docx", XLSX, "This file is not a real Word document"),
        (
            "book.xlsx",
            package("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"),
            "Files with macros cannot be uploaded",
        ),
    ],
)
def test_wrong_type_by_extension_or_content_is_refused(
    client, engagement, media, name, content, message
):
    response = post(client, page_url(engagement), doc(engagement, "Bank statements"), name, content)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert_nothing_stored(engagement, media)


def test_oversize_file_is_refused_by_the_service(client, engagement, media, settings):
    settings.UPLOAD_MAX_BYTES = 1024

    response = post(
        client, page_url(engagement), doc(engagement, "Bank statements"), "big.pdf", PDF * 40
    )

    assert response.status_code == 413
    assert "files can be at most 0" in response.content.decode()  # 1 KB shown in MB
    assert_nothing_stored(engagement, media)


def test_oversize_body_is_refused_from_its_header_before_it_is_read(
    client, engagement, media, settings
):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1024 * 1024
    big = PDF + b"0" * (1024 * 1024 + 128 * 1024)

    response = post(client, page_url(engagement), doc(engagement, "Bank statements"), "b.pdf", big)

    body = response.content.decode()
    assert response.status_code == 413
    assert "larger than 1 MB, so it was not read and nothing was saved" in body
    assert f'href="{page_url(engagement)}"' in body  # back to the upload page
    assert_nothing_stored(engagement, media)


def test_100_mb_body_is_refused_before_csrf_or_anything_reads_it(engagement, media, monkeypatch):
    """The browser holds a CSRF cookie, so the CSRF check would read the body for its
    token: the 413 must come first, from Content-Length alone (the test client's
    payload raises if more is read than it holds)."""
    from django.http import multipartparser
    from django.test import Client

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(multipartparser.MultiPartParser, "__init__", never)
    browser = Client(enforce_csrf_checks=True)
    browser.get(page_url(engagement))  # the CSRF cookie, as a real visitor has it

    response = browser.post(
        page_url(engagement),
        b"x" * 1024,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(100 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert_nothing_stored(engagement, media)


def test_default_limits(settings):
    assert settings.UPLOAD_MAX_BYTES == 15 * 1024 * 1024
    assert settings.UPLOAD_MAX_REQUEST_BYTES == 50 * 1024 * 1024
    assert settings.UPLOAD_LINK_MAX_AGE_SECONDS == 30 * 24 * 3600
    work_type = WorkType.objects.get(code="monthly_bookkeeping")
    assert (work_type.upload_files_per_day, work_type.upload_megabytes_per_day) == (100, 500)


# --- Several files at once, and the link's daily allowance ---------------------------


def post_many(client, url: str, document: RequiredDocument, files: list[tuple[str, bytes]], **kw):
    uploads = [SimpleUploadedFile(name, content) for name, content in files]
    return client.post(url, {"document": str(document.pk), "file": uploads}, **kw)


def test_every_file_of_a_multi_file_upload_is_stored(client, engagement, media):
    files = [(f"page-{n:02}.pdf", PDF + str(n).encode()) for n in range(60)]

    response = post_many(client, page_url(engagement), doc(engagement, "Bank statements"), files)

    assert response.status_code == 302
    assert DocumentUpload.objects.filter(engagement=engagement).count() == 60
    assert len(stored_files(media)) == 60
    followed = client.get(response["Location"]).content.decode()
    assert "page-00.pdf" in followed and "page-59.pdf" in followed


def test_a_refused_file_is_named_and_the_others_are_stored(client, engagement, media):
    files = [("a.pdf", PDF), ("virus.exe", EXE), ("fake.pdf", HTML), ("b.png", PNG)]

    response = post_many(
        client,
        page_url(engagement),
        doc(engagement, "Bank statements"),
        files,
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert sorted(DocumentUpload.objects.values_list("original_name", flat=True)) == [
        "a.pdf",
        "b.png",
    ]
    assert "Thank you: we received a.pdf, b.png." in body
    assert "virus.exe was not stored: Files of this type cannot be uploaded" in body
    assert "fake.pdf was not stored: This file is not a real PDF" in body
    assert doc(engagement, "Bank statements").received_at is not None


def test_the_link_takes_its_work_types_files_per_day_then_names_the_rest(client, engagement, media):
    WorkType.objects.filter(pk=engagement.work_type_id).update(upload_files_per_day=3)
    first = post_many(
        client, page_url(engagement), doc(engagement, "Bank statements"), [("1.pdf", PDF)]
    )

    response = post_many(
        client,
        page_url(engagement),
        doc(engagement, "Bank statements"),
        [(f"{n}.pdf", PDF) for n in range(2, 6)],
    )

    body = response.content.decode()
    assert first.status_code == 302 and response.status_code == 400
    assert DocumentUpload.objects.count() == 3
    assert "Thank you: we received 2.pdf, 3.pdf." in body
    assert "4.pdf was not stored: This link has taken 3 files in the last 24 hours" in body
    assert "5.pdf was not stored" in body
    assert len(stored_files(media)) == 3


def test_a_new_day_gives_the_link_its_allowance_again(client, engagement, media):
    from django.utils import timezone

    WorkType.objects.filter(pk=engagement.work_type_id).update(upload_files_per_day=1)
    post_many(client, page_url(engagement), doc(engagement, "Bank statements"), [("1.pdf", PDF)])
    DocumentUpload.objects.update(uploaded_at=timezone.now() - timedelta(hours=25))

    response = post_many(
        client, page_url(engagement), doc(engagement, "Bank statements"), [("2.pdf", PDF)]
    )

    assert response.status_code == 302
    assert DocumentUpload.objects.count() == 2


def test_the_link_takes_its_megabytes_per_day(engagement, media):
    WorkType.objects.filter(pk=engagement.work_type_id).update(upload_megabytes_per_day=1)
    engagement.refresh_from_db()
    scan = PDF + b"0" * (600 * 1024)
    item = doc(engagement, "Bank statements").pk
    document_upload_store(
        engagement=engagement,
        required_document_id=item,
        uploaded_file=SimpleUploadedFile("a.pdf", scan),
    )

    with pytest.raises(ValidationError, match="takes 1 MB in 24 hours and has 0.4 MB left"):
        document_upload_store(
            engagement=engagement,
            required_document_id=item,
            uploaded_file=SimpleUploadedFile("b.pdf", scan),
        )
    assert DocumentUpload.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_more_files_than_django_parses_are_refused_in_words(client, engagement, media, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    files = [(f"{n}.pdf", PDF) for n in range(4)]

    response = post_many(client, page_url(engagement), doc(engagement, "Bank statements"), files)

    assert response.status_code == 400
    assert "Send at most 3 files at a time; nothing was stored" in response.content.decode()
    assert_nothing_stored(engagement, media)


def test_empty_file_and_missing_choice_are_explained_next_to_the_fields(client, engagement, media):
    empty = post(client, page_url(engagement), doc(engagement, "Bank statements"), "e.pdf", b"")
    unchosen = post(client, page_url(engagement), "", "a.pdf", PDF)
    missing = client.post(page_url(engagement), {"document": "other"})

    assert empty.status_code == unchosen.status_code == missing.status_code == 400
    assert "This file is empty" in empty.content.decode()
    assert "Choose which document this is." in unchosen.content.decode()
    assert "Choose a file to upload." in missing.content.decode()
    assert_nothing_stored(engagement, media)


def test_document_of_another_engagement_is_refused(client, engagement, media):
    other = engagement_create(
        client=ClientFactory(),
        work_type=WorkType.objects.get(code="monthly_bookkeeping"),
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
        due_date=date(2026, 12, 15),
    )

    response = post(client, page_url(engagement), doc(other, "Bank statements"), "a.pdf", PDF)

    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert_nothing_stored(engagement, media)
    with pytest.raises(ValidationError, match="this engagement's checklist"):
        document_upload_store(
            engagement=engagement,
            required_document_id=doc(other, "Bank statements").pk,
            uploaded_file=SimpleUploadedFile("a.pdf", PDF),
        )
    assert_nothing_stored(engagement, media)


def test_htmx_refusal_returns_the_panel_with_the_error(client, engagement, media):
    response = post(
        client,
        page_url(engagement),
        doc(engagement, "Bank statements"),
        "invoice.pdf",
        HTML,
        headers={"HX-Request": "true"},
    )

    body = response.content.decode()
    assert response.status_code == 400
    assert body.lstrip().startswith('<div id="upload-panel">')
    assert "This file is not a real PDF" in body
    assert_nothing_stored(engagement, media)


def test_failure_after_writing_removes_the_file_again(engagement, media, monkeypatch):
    def broken(**kwargs: object) -> bool:
        raise RuntimeError("database went away")

    monkeypatch.setattr("engagements.uploads.required_document_receive", broken)

    with pytest.raises(RuntimeError):
        document_upload_store(
            engagement=engagement,
            required_document_id=doc(engagement, "Bank statements").pk,
            uploaded_file=SimpleUploadedFile("a.pdf", PDF),
        )

    assert_nothing_stored(engagement, media)


def test_service_refuses_empty_files_and_closed_engagements_itself(engagement, media):
    # The page catches both first; the service must not rely on that (one write path).
    with pytest.raises(ValidationError, match="This file is empty"):
        document_upload_store(
            engagement=engagement,
            required_document_id=None,
            uploaded_file=SimpleUploadedFile("a.pdf", b""),
        )
    engagement.milestone = Milestone.CLOSED
    with pytest.raises(ValidationError, match="This engagement is closed"):
        document_upload_store(
            engagement=engagement,
            required_document_id=None,
            uploaded_file=SimpleUploadedFile("a.pdf", PDF),
        )
    assert DocumentUpload.objects.count() == 0 and stored_files(media) == []


def test_closed_engagement_takes_no_more_files(client, engagement, media):
    Engagement.objects.filter(pk=engagement.pk).update(milestone=Milestone.CLOSED)

    page = client.get(page_url(engagement))
    response = post(client, page_url(engagement), doc(engagement, "Bank statements"), "a.pdf", PDF)

    assert page.status_code == response.status_code == 410
    assert "This engagement is closed" in response.content.decode()
    assert DocumentUpload.objects.count() == 0 and stored_files(media) == []


# --- Names: never trusted, never a path -------------------------------------------


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\evil.pdf", "evil.pdf"),
        ("..\\..\\..\\windows\\win.pdf", "win.pdf"),
        ("/var/www/shell.pdf", "shell.pdf"),
    ],
)
def test_path_traversal_names_never_reach_the_disk(
    client, engagement, media, tmp_path, sent, shown
):
    response = raw_post(client, page_url(engagement), doc(engagement, "Bank statements"), sent, PDF)

    upload = DocumentUpload.objects.get()
    assert response.status_code == 302
    assert upload.original_name == shown
    assert re.fullmatch(r"uploads/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", upload.file.name)
    assert stored_files(tmp_path) == [media / upload.file.name]


@pytest.mark.parametrize("sent", ["..", "../..", "..\\..", "/", "../"])
def test_names_that_are_only_a_path_are_refused(client, engagement, media, sent):
    response = raw_post(client, page_url(engagement), doc(engagement, "Bank statements"), sent, PDF)

    assert response.status_code == 400
    assert "Choose a file to upload." in response.content.decode()
    assert_nothing_stored(engagement, media)


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\evil.pdf", "evil.pdf"),
        ("C:\\Users\\me\\W-2 2026.pdf", "W-2_2026.pdf"),
        ("..evil..pdf", "evil.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ("<script>x</script>.pdf", "script.pdf"),
        ("a<b>c:d*e?.pdf", "abcde.pdf"),
        ("tab\there.pdf", "tabhere.pdf"),
        ("..", ""),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_original_names_are_stripped_of_paths_and_unsafe_characters(raw, safe):
    assert safe_original_name(raw) == safe


def test_service_strips_a_raw_traversal_name_it_is_handed(engagement, media, tmp_path):
    uploaded = SimpleUploadedFile("placeholder.pdf", PDF)
    uploaded._name = "../../../outside.pdf"  # as a caller that skipped Django's parser might

    upload = document_upload_store(
        engagement=engagement,
        required_document_id=None,
        uploaded_file=uploaded,
    )

    assert upload.original_name == "outside.pdf"
    assert stored_files(tmp_path) == [media / upload.file.name]


# --- Links: expired, tampered, foreign -----------------------------------------------


def expired_token(engagement: Engagement, monkeypatch) -> str:
    real = time.time
    with monkeypatch.context() as m:
        m.setattr(time, "time", lambda: real() - 31 * 24 * 3600)
        return upload_token(engagement_id=engagement.pk)


def tampered_token(engagement: Engagement) -> str:
    token = upload_token(engagement_id=engagement.pk)
    last = "A" if token[-1] != "A" else "B"
    return token[:-1] + last


def test_expired_link_shows_a_clear_page_and_stores_nothing(client, engagement, media, monkeypatch):
    url = reverse("engagements:document-upload", args=[expired_token(engagement, monkeypatch)])

    page = client.get(url)
    response = post(client, url, doc(engagement, "Bank statements"), "a.pdf", PDF)

    assert page.status_code == response.status_code == 400
    assert "This upload link has expired" in page.content.decode()
    assert 'aria-label="Main"' not in page.content.decode()
    assert_nothing_stored(engagement, media)


@pytest.mark.parametrize("kind", ["tampered", "truncated", "foreign", "garbage", "shape"])
def test_bad_link_shows_a_clear_page_and_stores_nothing(client, engagement, media, kind):
    from dispatch.links import action_token

    token = {
        "tampered": tampered_token(engagement),
        "truncated": upload_token(engagement_id=engagement.pk)[:-12],
        # A real token for another purpose (a task's accept link) is not an upload link.
        "foreign": action_token(
            task_id=engagement.tasks.first().pk, staff_id=1, action="accept", assigned_at=None
        ),
        "garbage": "not-a-token",
        # Signed with our salt but not holding an engagement id.
        "shape": signing.dumps({"task": 1}, salt=SALT),
    }[kind]
    url = reverse("engagements:document-upload", args=[token])

    page = client.get(url)
    response = post(client, url, doc(engagement, "Bank statements"), "a.pdf", PDF)

    assert page.status_code == response.status_code == 400
    assert "This upload link is not valid" in page.content.decode()
    assert_nothing_stored(engagement, media)


def test_link_to_a_deleted_engagement_is_gone(client, engagement):
    url = page_url(engagement)
    engagement.delete()

    response = client.get(url)

    assert response.status_code == 410
    assert "no longer have on file" in response.content.decode()


def test_upload_still_requires_the_csrf_token(engagement, media):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)

    response = post(browser, page_url(engagement), doc(engagement, "Bank statements"), "a.pdf", PDF)

    assert response.status_code == 403
    assert_nothing_stored(engagement, media)
