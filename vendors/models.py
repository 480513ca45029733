"""What a provider brings to the delivery: its suppliers (sub-contractors), instructors and their qualifications.

The `Provider` itself is a party of the tenancy and lives in `mls.models`."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from mls.models import Provider, TenantModel, TracksUpdates


class Supplier(TracksUpdates, TenantModel):
    """A training vendor the provider sub-contracts (neutral/master vendor models)."""

    audited_fields = (
        "provider",
        "name",
        "categories",
        "regions",
        "rate_card",
        "insurance_expires_on",
        "contract_expires_on",
    )

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="suppliers")
    name = models.CharField(max_length=200)
    categories = models.CharField(max_length=300, blank=True, help_text=_("e.g. leadership, compliance, IT"))
    regions = models.CharField(max_length=300, blank=True, help_text=_("e.g. UK, DACH"))
    rate_card = models.TextField(blank=True, help_text=_("Day rates and unit prices as agreed."))
    insurance_expires_on = models.DateField(null=True, blank=True)
    contract_expires_on = models.DateField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "provider", "name"], name="vendors_supplier_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Instructor(TracksUpdates, TenantModel):
    """A trainer employed by the provider or by one of its suppliers."""

    audited_fields = ("provider", "supplier", "name", "email")

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="instructors")
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, null=True, blank=True, related_name="instructors")
    name = models.CharField(max_length=200)
    email = models.EmailField()

    class Meta(TenantModel.Meta):
        ordering = ["name"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "email"], name="vendors_instructor_unique_email"),
        ]

    def __str__(self) -> str:
        return self.name


class InstructorQualification(TenantModel):
    audited_fields = ("instructor", "name", "expires_on")

    instructor = models.ForeignKey(Instructor, on_delete=models.CASCADE, related_name="qualifications")
    name = models.CharField(max_length=200)
    expires_on = models.DateField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["instructor", "name"]

    def __str__(self) -> str:
        return self.name
