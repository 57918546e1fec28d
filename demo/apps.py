from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo firm and ``manage.py seed_demo``."""

    verbose_name = "Closeloop demo firm"
    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
