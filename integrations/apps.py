from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from integrations.inbox import endpoints_forget
        from integrations.models import Integration

        post_save.connect(endpoints_forget, sender=Integration, weak=False)
        post_delete.connect(endpoints_forget, sender=Integration, weak=False)
