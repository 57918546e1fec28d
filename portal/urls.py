from django.urls import path

from portal import dashboard_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("close/", dashboard_views.close_dashboard, name="close-dashboard"),
    path("healthz", views.healthz, name="healthz"),
]
