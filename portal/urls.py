from django.urls import path

from portal import capacity_views, client_views, dashboard_views, estimate_views, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("close/", dashboard_views.close_dashboard, name="close-dashboard"),
    path("clients/", client_views.client_list, name="client-list"),
    path("clients/<int:pk>/", client_views.client_detail, name="client-detail"),
    path("engagements/", client_views.engagement_list, name="engagement-list"),
    path("capacity/", capacity_views.heatmap, name="capacity"),
    path("capacity/days/", capacity_views.heatmap_days, name="capacity-days"),
    path("capacity/cell/", capacity_views.heatmap_cell_detail, name="capacity-cell"),
    path("capacity/deadlines/", capacity_views.deadlines, name="capacity-deadlines"),
    path("capacity/deadlines/day/", capacity_views.deadline_day, name="capacity-deadline-day"),
    path("capacity/metrics/", capacity_views.metrics, name="capacity-metrics"),
    path("capacity/estimates/", estimate_views.estimates, name="capacity-estimates"),
    path(
        "capacity/estimates/<int:work_type_id>/use/",
        estimate_views.estimate_use,
        name="capacity-estimate-use",
    ),
    path("capacity/hours/<int:staff_id>/", capacity_views.staff_hours, name="capacity-hours"),
    path(
        "capacity/hours/<int:staff_id>/<int:pattern_id>/remove/",
        capacity_views.staff_hours_remove,
        name="capacity-hours-remove",
    ),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
]
