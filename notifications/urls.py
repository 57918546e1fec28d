from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("notifications/failed/", views.failed_notifications, name="failed"),
    path("notifications/<int:pk>/retry/", views.notification_retry, name="retry"),
]
