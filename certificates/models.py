"""A certificate of completion: the facts it printed, frozen when it was issued, and its verification code.

The verification page and the PDF both read the row, never the live records, so what a third party verifies is
exactly what the paper says. The completion is SET_NULL: a completion that is deleted leaves its certificate
behind, revoked ("withdrawn"), instead of turning the printed verification URL into a 404.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from mls.enums import Language
from mls.models import TenantModel
from mls.validators import validate_timezone

from .enums import Revocation


class Certificate(TenantModel):
    audited_fields = (
        "completion",
        "learner",
        "course",
        "completed_at",
        "learner_name",
        "course_code",
        "course_title",
        "duration_hours",
        "provider_name",
        "organization_name",
        "completed_on",
        "timezone",
        "language",
        "issued_at",
        "revoked_at",
        "revocation",
        "revocation_note",
    )
    # The random half of the verification code: who holds it may read the certificate's facts, so the audit log
    # never shows it.
    secret_fields = ("code",)

    # One live certificate per completion; a superseded one is detached (completion None) when its successor is
    # issued, a revoked one stays attached so that no new certificate is issued for the completion.
    completion = models.OneToOneField(
        "scheduling.Completion", on_delete=models.SET_NULL, null=True, blank=True, related_name="certificate"
    )
    code = models.CharField(max_length=40)
    # Who and what the completion was when the certificate was issued (a change of these supersedes it).
    learner = models.ForeignKey("scheduling.Learner", on_delete=models.SET_NULL, null=True, related_name="+")
    course = models.ForeignKey("scheduling.Course", on_delete=models.SET_NULL, null=True, related_name="+")
    completed_at = models.DateTimeField()
    # The facts as printed.
    learner_name = models.CharField(max_length=200)
    course_code = models.CharField(max_length=40)
    course_title = models.CharField(max_length=200)
    duration_hours = models.DecimalField(max_digits=6, decimal_places=2)
    provider_name = models.CharField(max_length=200, blank=True)
    organization_name = models.CharField(max_length=200)
    completed_on = models.DateField(help_text=_("The day of the completion in the learner's time zone."))
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN_GB)
    issued_at = models.DateTimeField(default=now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation = models.CharField(max_length=20, choices=Revocation.choices, blank=True)
    revocation_note = models.TextField(blank=True)

    class Meta(TenantModel.Meta):
        ordering = ["-issued_at", "-id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "code"], name="certificates_certificate_code"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True, revocation="") | (Q(revoked_at__isnull=False) & ~Q(revocation="")),
                name="certificates_certificate_revocation_recorded",
            ),
        ]

    @property
    def hours(self) -> Decimal:
        """The course's duration as printed: 3.5, 3, 10 (no trailing zeros, never 1E+1)."""
        whole = self.duration_hours.to_integral_value()
        return whole if whole == self.duration_hours else self.duration_hours.normalize()

    def __str__(self) -> str:
        return f"{self.learner_name} · {self.course_code} ({self.completed_on})"

    @property
    def public_code(self) -> str:
        """The code printed and in the verification URL: the organization it belongs to (the tenant scope the
        public page enters) and the random secret that proves it was issued."""
        return f"{self.organization_id}-{self.code}"
