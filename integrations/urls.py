from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("webhooks/<slug:slug>/", views.webhook_receive, name="webhook"),
]
