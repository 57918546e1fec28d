from django.urls import path

from billing import views_followups, views_invoices, views_time

app_name = "billing"

urlpatterns = [
    path("time/", views_time.time_week, name="time-week"),
    path("time/approve-week/", views_time.time_week_approve, name="time-week-approve"),
    path("time/entries/new/", views_time.time_entry_new, name="time-entry-new"),
    path("time/entries/<int:pk>/", views_time.time_entry_save, name="time-entry-save"),
    path(
        "time/entries/<int:pk>/approve/", views_time.time_entry_approve, name="time-entry-approve"
    ),
    path("time/timer/<int:task_pk>/start/", views_time.timer_start, name="timer-start"),
    path("time/timer/stop/", views_time.timer_stop, name="timer-stop"),
]

urlpatterns += [
    path("billing/approvals/", views_invoices.approvals, name="approvals"),
    path("billing/invoices/", views_invoices.invoice_list, name="invoice-list"),
    path("billing/invoices/<int:pk>/", views_invoices.invoice_detail, name="invoice-detail"),
    path("billing/invoices/<int:pk>/pdf/", views_invoices.invoice_pdf_view, name="invoice-pdf"),
    path(
        "billing/invoices/<int:pk>/approve/", views_invoices.invoice_approve, name="invoice-approve"
    ),
    path("billing/invoices/<int:pk>/reject/", views_invoices.invoice_reject, name="invoice-reject"),
    path("billing/invoices/<int:pk>/void/", views_invoices.invoice_void, name="invoice-void"),
    path(
        "billing/invoices/<int:pk>/lines/<int:line_pk>/",
        views_invoices.invoice_line_edit,
        name="invoice-line-edit",
    ),
    path(
        "billing/invoices/<int:pk>/lines/new/",
        views_invoices.invoice_line_add,
        name="invoice-line-add",
    ),
    path(
        "billing/invoices/<int:pk>/payments/", views_invoices.payment_create, name="payment-create"
    ),
    path("billing/leakage/", views_invoices.leakage, name="leakage"),
    path("i/<str:token>/", views_invoices.invoice_public, name="invoice-public"),
    path("i/<str:token>/pdf/", views_invoices.invoice_public_pdf, name="invoice-public-pdf"),
]

urlpatterns += [
    path("billing/followups/", views_followups.followup_status, name="followups"),
    path(
        "billing/followups/notifications/<int:pk>/retry/",
        views_followups.followup_retry,
        name="followup-retry",
    ),
    path("billing/tasks/", views_followups.billing_tasks, name="tasks"),
    path("billing/tasks/<int:pk>/done/", views_followups.billing_task_done, name="task-done"),
    path(
        "billing/invoices/<int:pk>/dispute/", views_followups.dispute_create, name="dispute-create"
    ),
    path(
        "billing/disputes/<int:pk>/resolve/",
        views_followups.dispute_resolve,
        name="dispute-resolve",
    ),
    path(
        "billing/invoices/<int:pk>/promise/", views_followups.promise_create, name="promise-create"
    ),
    path("billing/invoices/<int:pk>/plan/", views_followups.plan_create, name="plan-create"),
    path(
        "billing/clients/<int:pk>/release-hold/",
        views_followups.hold_release,
        name="hold-release",
    ),
    path("s/<str:token>/", views_followups.statement_public, name="statement-public"),
]
