from __future__ import annotations

from django.db import models
from django.db.models import Q
from phonenumber_field.modelfields import PhoneNumberField

from clients.choices import BillingModel, EntityType, ExternalSource, ValueTier
from core.models import TimeStampedModel
from staff.choices import Seniority, SkillCategory


class Client(TimeStampedModel):
    name = models.CharField(max_length=200)
    entity_type = models.CharField(max_length=16, choices=EntityType.choices)
    industry_tags = models.ManyToManyField(
        "staff.SkillTag",
        blank=True,
        related_name="clients",
        limit_choices_to={"category": SkillCategory.INDUSTRY},
    )
    value_tier = models.CharField(
        max_length=16, choices=ValueTier.choices, default=ValueTier.STANDARD
    )
    min_seniority = models.PositiveSmallIntegerField(
        choices=Seniority.choices,
        null=True,
        blank=True,
        help_text="Only staff at or above this level may work this client (seniority guardrail).",
    )
    billing_model = models.CharField(
        max_length=16, choices=BillingModel.choices, default=BillingModel.HOURLY
    )
    retainer_amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Monthly amount; required for a monthly retainer, empty otherwise.",
    )
    contact_name = models.CharField("primary contact", max_length=200, blank=True)
    email = models.EmailField(blank=True)
    mobile = PhoneNumberField(
        blank=True, help_text="International (E.164) format, e.g. +15551234567."
    )
    preferred_staff = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="preferred_by_clients",
        help_text="A staff member the client has asked for.",
    )
    relationship_partner = models.ForeignKey(
        "staff.StaffMember",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_for_clients",
    )
    payment_plan = models.BooleanField(default=False)
    autopay = models.BooleanField(default=False)
    account_hold = models.BooleanField(
        default=False, help_text="No new non-urgent work is dispatched while on hold."
    )
    account_hold_reason = models.CharField(
        max_length=300, blank=True, help_text="Why the client is on hold (shown to dispatch)."
    )
    account_hold_since = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        billing_model=BillingModel.RETAINER,
                        retainer_amount__isnull=False,
                        retainer_amount__gt=0,
                    )
                    | (~Q(billing_model=BillingModel.RETAINER) & Q(retainer_amount__isnull=True))
                ),
                name="client_retainer_amount_iff_retainer",
                violation_error_message=(
                    "A monthly retainer needs a positive amount; other billing models take none."
                ),
            ),
            models.CheckConstraint(
                condition=Q(min_seniority__isnull=True)
                | (Q(min_seniority__gte=1) & Q(min_seniority__lte=6)),
                name="client_min_seniority_in_range",
            ),
        ]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class ClientContact(TimeStampedModel):
    """Someone at the client besides the primary contact: the controller who sends the
    bank statements, the owner who signs, the payroll clerk."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(
        "role at the client", max_length=120, blank=True, help_text="e.g. Controller, Owner."
    )
    email = models.EmailField(blank=True)
    phone = PhoneNumberField(
        blank=True, help_text="International (E.164) format, e.g. +15551234567."
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "other contact"

    def __str__(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name


class ClientExternalId(models.Model):
    """The client's id in another system; one per (source, id)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="external_ids")
    source = models.CharField(max_length=20, choices=ExternalSource.choices)
    external_id = models.CharField(max_length=128)

    class Meta:
        ordering = ["source", "external_id"]
        verbose_name = "external id"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"],
                name="client_external_id_unique_per_source",
                violation_error_message="Another client already has this id in that system.",
            ),
            models.UniqueConstraint(
                fields=["client", "source"],
                name="client_one_external_id_per_source",
                violation_error_message="This client already has an id in that system.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.external_id}"
