from django.apps import AppConfig


class CoreConfig(AppConfig):
    verbose_name = "Closeloop core"
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
