"""Client document uploads: a signed link per engagement, and one write path for files.

1. ``upload_url`` signs the engagement id (own salt, expiry from settings). The
   link needs no login, so the signature is the only credential; every email
   signs a fresh one, so a reminder always carries a link that works.
2. ``file_check`` refuses what we will not keep: empty or oversized files, types
   outside the list, and files whose bytes are not what their extension claims.
3. ``document_upload_store`` stores an accepted file under a random name and
   marks its checklist item received; completing the checklist advances the
   engagement, which dispatches the preparer. A link takes so many files and bytes
   a day (its work type says how many); past that, files are refused in words.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Prefetch, Sum
from django.utils import timezone
from django.utils.text import get_valid_filename

from engagements.choices import Milestone
from engagements.models import DocumentUpload, Engagement, RequiredDocument
from engagements.services import required_document_receive
from engagements.upload_links import (  # noqa: F401  (the upload pages' imports)
    SALT,
    UploadLinkError,
    read_upload_token,
    upload_token,
    upload_url,
)


def upload_open(engagement: Engagement) -> bool:
    """A closed engagement takes no more files; every earlier step does (clarifications
    arrive during review)."""
    return engagement.milestone != Milestone.CLOSED


def upload_engagement_get(*, engagement_id: int) -> Engagement | None:
    """The engagement behind a link, with its checklist and files (three queries)."""
    return (
        Engagement.objects.select_related("client", "work_type")
        .prefetch_related(
            Prefetch("required_documents", queryset=RequiredDocument.objects.order_by("name")),
            Prefetch(
                "uploads",
                queryset=DocumentUpload.objects.select_related("required_document").order_by(
                    "-uploaded_at", "-pk"
                ),
            ),
        )
        .filter(pk=engagement_id)
        .first()
    )


# --- Checking a file -----------------------------------------------------------

_HEAD = 1024


def _starts_with(magic: bytes) -> Callable[[UploadedFile], str]:
    def check(file: UploadedFile) -> str:
        file.seek(0)
        return "" if file.read(len(magic)) == magic else "mismatch"

    return check


def _office(main_part: str) -> Callable[[UploadedFile], str]:
    """xlsx/docx are zip packages: the zip magic, the content-types part and the main
    part must all be there. Only the directory is read; nothing is decompressed."""

    def check(file: UploadedFile) -> str:
        file.seek(0)
        if file.read(4) != b"PK\x03\x04":
            return "mismatch"
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as package:
                names = set(package.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "mismatch"
        if "[Content_Types].xml" not in names or main_part not in names:
            return "mismatch"
        if any(name.lower().endswith("vbaproject.bin") for name in names):
            return "macros"
        return ""

    return check


_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<script", b"<?xml", b"<svg")


def _csv_text(file: UploadedFile) -> str:
    """CSV has no magic number: it must be text (UTF-8, or Windows-1252 as Excel
    writes it) without control bytes, and not a web page with a .csv name."""
    file.seek(0)
    data = file.read()
    if _CONTROL.search(data) or data[:_HEAD].lstrip().lower().startswith(_MARKUP):
        return "mismatch"
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return ""
    return "mismatch"


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    check: Callable[[UploadedFile], str]  # "" when the bytes fit, else a refusal code


_JPEG = FileKind("JPEG image", "image/jpeg", _starts_with(b"\xff\xd8\xff"))
FILE_KINDS: dict[str, FileKind] = {
    "pdf": FileKind("PDF", "application/pdf", _starts_with(b"%PDF-")),
    "png": FileKind("PNG image", "image/png", _starts_with(b"\x89PNG\r\n\x1a\n")),
    "jpg": _JPEG,
    "jpeg": _JPEG,
    "csv": FileKind("CSV file", "text/csv", _csv_text),
    "xlsx": FileKind(
        "Excel workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _office("xl/workbook.xml"),
    ),
    "docx": FileKind(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        _office("word/document.xml"),
    ),
}
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, CSV, Excel (.xlsx) or Word (.docx)"
ACCEPT_ATTRIBUTE = ",".join(f".{extension}" for extension in FILE_KINDS)


def safe_original_name(name: str) -> str:
    """The client's file name for display only: no directories (either slash), no
    ``..``, no hidden-file dot, no characters outside ``get_valid_filename``'s set.

    Never used as a path: files are stored under a random name.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = "".join(char for char in base if char.isprintable())
    try:
        cleaned = get_valid_filename(base)
    except SuspiciousFileOperation:  # "", "." or ".."
        return ""
    while ".." in cleaned:
        cleaned = cleaned.replace("..", ".")
    cleaned = cleaned.lstrip(".")
    if len(cleaned) > 200:
        stem, dot, extension = cleaned.rpartition(".")
        cleaned = f"{stem[: 199 - len(extension)]}.{extension}" if dot else cleaned[:200]
    return cleaned


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


@dataclass(frozen=True)
class CheckedFile:
    original_name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def file_check(uploaded_file: UploadedFile) -> CheckedFile:
    """Accept the file or raise ValidationError with a message the client can act on.

    The extension picks the expected type; the bytes must then match it. The
    browser's content type is ignored (the client controls it).
    """
    size = uploaded_file.size or 0
    limit = settings.UPLOAD_MAX_BYTES
    if size <= 0:
        raise ValidationError("This file is empty. Choose the file again.", code="empty")
    if size > limit:
        raise ValidationError(
            f"This file is {_megabytes(size)} MB; files can be at most {_megabytes(limit)} MB. "
            "Split it, or send a smaller scan.",
            code="too_large",
        )
    original_name = safe_original_name(uploaded_file.name or "")
    extension = original_name.rpartition(".")[2].lower() if "." in original_name else ""
    kind = FILE_KINDS.get(extension)
    if kind is None:
        raise ValidationError(
            f"Files of this type cannot be uploaded. Send a {ALLOWED_TYPES_TEXT} file.",
            code="type",
        )
    refusal = kind.check(uploaded_file)
    if refusal == "macros":
        raise ValidationError(
            "Files with macros cannot be uploaded. Save it as a plain workbook and try again.",
            code="macros",
        )
    if refusal:
        raise ValidationError(
            f"This file is not a real {kind.label}, although its name ends in .{extension}. "
            f"Save or export it as a {kind.label} and try again.",
            code="content",
        )
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return CheckedFile(
        original_name=original_name,
        extension=extension,
        content_type=kind.content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


# --- Storing -------------------------------------------------------------------

UPLOAD_ALLOWANCE_WINDOW = timedelta(hours=24)


def upload_allowance_check(*, engagement: Engagement, size: int) -> None:
    """Refuse a file that would take the link past its work type's files or bytes in the
    last 24 hours (``WorkType.upload_files_per_day`` / ``upload_megabytes_per_day``).

    Every email signs a fresh link to the same engagement, so the allowance is the
    engagement's: a reminder's link does not start a new day. Call it inside the
    transaction that stores the file, with the engagement locked.
    """
    work_type = engagement.work_type
    taken = DocumentUpload.objects.filter(
        engagement_id=engagement.pk, uploaded_at__gt=timezone.now() - UPLOAD_ALLOWANCE_WINDOW
    ).aggregate(files=Count("pk"), size=Sum("size", default=0))
    max_files = work_type.upload_files_per_day
    if taken["files"] + 1 > max_files:
        raise ValidationError(
            f"This link has taken {max_files} files in the last 24 hours, as many as it takes "
            "in a day. Send the rest tomorrow, or reply to our email.",
            code="daily_files",
        )
    max_bytes = work_type.upload_megabytes_per_day * 1024 * 1024
    if taken["size"] + size > max_bytes:
        raise ValidationError(
            f"This link takes {work_type.upload_megabytes_per_day} MB in 24 hours and has "
            f"{_megabytes(max(max_bytes - taken['size'], 0))} MB left today. Send this file "
            "tomorrow, or reply to our email.",
            code="daily_bytes",
        )


def document_upload_store(
    *, engagement: Engagement, required_document_id: int | None, uploaded_file: UploadedFile
) -> DocumentUpload:
    """Check, store and record one client file; returns the stored upload.

    1. Check the file and the chosen checklist item; a refusal raises
       ValidationError before anything is written.
    2. In one transaction: lock the engagement and refuse the file if its link has
       taken its day's files or bytes already (``upload_allowance_check``); write the
       file under a random name (the FileField's ``upload_to`` supplies the folder),
       record the row, and mark the item received — which, when it completes the
       checklist, advances the engagement.
    3. If the transaction fails, the written file is deleted again. Call this
       outside an open transaction: a rollback further out would leave the file.
    """
    if not upload_open(engagement):
        raise ValidationError(
            "This engagement is closed, so it takes no more files. Reply to our email instead.",
            code="closed",
        )
    checked = file_check(uploaded_file)
    document = None
    if required_document_id is not None:
        document = RequiredDocument.objects.filter(
            pk=required_document_id, engagement=engagement
        ).first()
        if document is None:
            raise ValidationError(
                "Choose a document from this engagement's checklist.", code="document"
            )
    upload = DocumentUpload(
        engagement=engagement,
        required_document=document,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
    )
    try:
        with transaction.atomic():
            # Locked, so two uploads at once cannot both take the link's last place.
            Engagement.objects.select_for_update().filter(pk=engagement.pk).first()
            upload_allowance_check(engagement=engagement, size=checked.size)
            upload.file.save(f"{secrets.token_hex(16)}.{checked.extension}", uploaded_file)
            if document is not None:
                required_document_receive(document_id=document.pk)
    except BaseException:
        if upload.file.name:
            upload.file.storage.delete(upload.file.name)
        raise
    return upload
