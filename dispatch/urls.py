from django.urls import path

from dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("tasks/<int:pk>/", views.task_detail, name="task-detail"),
    path("tasks/<int:pk>/assign/", views.task_assign, name="task-assign"),
    path("tasks/<int:pk>/estimate/", views.task_estimate, name="task-estimate"),
    path("decisions/<int:pk>/confirm/", views.decision_confirm, name="decision-confirm"),
]
