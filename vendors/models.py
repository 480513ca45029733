"""Providers (the managed service provider of an engagement) and, later, their suppliers and instructors."""

from django.db import models
from django.utils import timezone

from mls.models import TenantModel


class Provider(TenantModel):
    """The managed service provider that delivers training to the client organization."""

    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "name"], name="vendors_provider_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name
