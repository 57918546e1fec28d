from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The pages composed from several apps: home, navigation, the close dashboard."""

    verbose_name = "Closeloop portal"
    default_auto_field = "django.db.models.BigAutoField"
    name = "portal"
