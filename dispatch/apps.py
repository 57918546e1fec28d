from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class DispatchConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "dispatch"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from dispatch import messages  # noqa: F401  (registers its still-applies checks)
        from dispatch.roster import roster_changed
        from engagements.models import WorkType, WorkTypeSkill
        from staff.models import SkillTag, StaffMember, StaffSkill, TimeOff

        # What the dispatch roster is built from: any change moves its stamp.
        models = (
            get_user_model(),
            StaffMember,
            StaffSkill,
            TimeOff,
            SkillTag,
            WorkType,
            WorkTypeSkill,
        )
        for model in models:
            post_save.connect(roster_changed, sender=model, weak=False)
            post_delete.connect(roster_changed, sender=model, weak=False)
