from django.urls import path

from dispatch import manager_views, plan_views, queue_views, views

app_name = "dispatch"

urlpatterns = [
    path("queue/", queue_views.queue, name="queue"),
    path("queue/tasks/<int:pk>/", queue_views.queue_row, name="queue-row"),
    path("queue/tasks/<int:pk>/complete/", queue_views.queue_complete, name="queue-complete"),
    path("queue/tasks/<int:pk>/<str:action>/", queue_views.queue_action, name="queue-action"),
    path("act/<str:token>/", queue_views.task_action, name="task-action"),
    path("escalations/", manager_views.escalations, name="escalations"),
    path("escalations/bulk/", manager_views.escalation_bulk, name="escalation-bulk"),
    path(
        "escalations/<int:pk>/<str:action>/",
        manager_views.escalation_action,
        name="escalation-action",
    ),
    path("team/", manager_views.team, name="team"),
    path("confirmations/", manager_views.confirmations, name="confirmations"),
    path(
        "decisions/<int:pk>/decline/",
        manager_views.confirmation_decline,
        name="decision-decline",
    ),
    path("plans/", plan_views.plans, name="plans"),
    path("plans/week/", plan_views.plan_week, name="plan-week"),
    path("plans/<int:pk>/", plan_views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/apply/", plan_views.plan_apply, name="plan-apply"),
    path("rebalancing/", plan_views.rebalancing, name="rebalancing"),
    path("rebalancing/run/", plan_views.rebalancing_run, name="rebalancing-run"),
    path("rebalancing/all/", plan_views.proposals_decide_all, name="proposals-decide-all"),
    path(
        "rebalancing/<int:pk>/<str:action>/",
        plan_views.proposal_decide,
        name="proposal-decide",
    ),
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/assign/", views.task_assign, name="task-assign"),
    path("tasks/<int:pk>/estimate/", views.task_estimate, name="task-estimate"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
    path("decisions/<int:pk>/confirm/", views.decision_confirm, name="decision-confirm"),
]
