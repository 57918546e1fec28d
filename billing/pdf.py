"""The invoice document: HTML rendered by WeasyPrint into a PDF (firm details, lines,
totals, terms, balance, how to pay). The same context draws the client's web page."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from billing.models import Invoice
from billing.selectors import invoice_document_context

STYLESHEET = Path(settings.BASE_DIR) / "static" / "css" / "invoice_pdf.css"


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes (``invoice`` from ``invoice_for_document``)."""
    from weasyprint import CSS, HTML  # heavy import: only where a PDF is made

    html = render_to_string("billing/invoice_pdf.html", invoice_document_context(invoice))
    document = HTML(string=html, base_url=str(settings.BASE_DIR))
    return document.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])  # type: ignore[no-any-return]


def invoice_pdf_filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.number or invoice.pk}.pdf"
