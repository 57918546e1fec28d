from django.urls import path

from engagements import views

app_name = "engagements"

urlpatterns = [
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path("tasks/<int:pk>/complete/", views.task_complete, name="task-complete"),
]
