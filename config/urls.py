from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from core.auth_forms import AdminLoginForm, LoginForm

admin.site.site_header = "Closeloop administration"
admin.site.site_title = "Closeloop admin"
admin.site.index_title = "Firm data and rules"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            redirect_authenticated_user=True, authentication_form=LoginForm
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("integrations.api.urls")),
    path("", include("integrations.urls")),
    path("", include("dispatch.urls")),
    path("", include("engagements.urls")),
    path("", include("notifications.urls")),
    path("", include("billing.urls")),
    path("", include("portal.urls")),
]
