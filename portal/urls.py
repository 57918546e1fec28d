from django.urls import path

from portal import client_views, dashboard_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("close/", dashboard_views.close_dashboard, name="close-dashboard"),
    path("clients/", client_views.client_list, name="client-list"),
    path("clients/<int:pk>/", client_views.client_detail, name="client-detail"),
    path("engagements/", client_views.engagement_list, name="engagement-list"),
    path("healthz", views.healthz, name="healthz"),
]
