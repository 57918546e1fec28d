from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class CapacityConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "capacity"

    def ready(self) -> None:
        from capacity.estimates import effort_factors_forget
        from capacity.models import CapacityRule
        from capacity.selectors import capacity_policy_forget
        from engagements.models import WorkType
        from staff.models import SkillTag

        # The cached policy is forgotten whenever what it is built from changes.
        for model in (CapacityRule, SkillTag):
            post_save.connect(capacity_policy_forget, sender=model, weak=False)
            post_delete.connect(capacity_policy_forget, sender=model, weak=False)
        m2m_changed.connect(capacity_policy_forget, sender=CapacityRule.skills.through, weak=False)
        # So are the effort factors when a work type's default estimate is recalibrated.
        post_save.connect(effort_factors_forget, sender=WorkType, weak=False)
