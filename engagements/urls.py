from django.urls import path

from engagements import upload_views, views

app_name = "engagements"

urlpatterns = [
    path("engagements/new/", views.engagement_create, name="engagement-create"),
    path(
        "engagements/new/clients/",
        views.engagement_create_clients,
        name="engagement-create-clients",
    ),
    path(
        "engagements/new/dates/",
        views.engagement_create_preview,
        name="engagement-create-preview",
    ),
    path("uploads/<str:token>/", upload_views.document_upload, name="document-upload"),
    path("engagements/<int:pk>/", views.engagement_detail, name="engagement-detail"),
    path(
        "engagements/<int:pk>/files/<int:upload_pk>/",
        views.document_download,
        name="document-download",
    ),
    path("engagements/<int:pk>/advance/", views.engagement_advance, name="engagement-advance"),
    path("engagements/<int:pk>/exceptions/", views.exception_raise, name="exception-raise"),
    path(
        "engagements/<int:pk>/exceptions/<int:exception_pk>/resolve/",
        views.exception_resolve,
        name="exception-resolve",
    ),
]
