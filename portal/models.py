"""The learner's own credentials: one-time sign-in links and a personal calendar feed.

Learners are records, not users: they sign in by a link sent to their address, and subscribe to their sessions by a
feed URL. Both secrets are stored as SHA-256 only (the raw value is in the email, or shown once), and both name their
organization in the raw value (`<organization id>_<secret>`) so a request can enter that tenant's scope before it
looks the row up, as API tokens do.
"""

from django.db import models
from django.db.models import Q
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _

from mls.models import TenantModel
from scheduling.models import Learner


class LearnerSignInLink(TenantModel):
    """A magic link: works once (`used_at`), and only until `expires_at`."""

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("learner sign-in link")
        ordering = ["-created_at", "-id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "token_hash"], name="portal_signinlink_token"),
        ]

    def __str__(self) -> str:
        return f"Sign-in link of learner {self.learner_id} ({self.created_at:%Y-%m-%d %H:%M})"


class LearnerCalendarFeed(TenantModel):
    """A learner's subscribable calendar URL. One live feed per learner; re-issuing revokes the previous one."""

    audited_fields = ("learner", "created_at", "revoked_at")
    secret_fields = ("token_hash",)

    learner = models.ForeignKey(Learner, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("learner calendar feed")
        ordering = ["-created_at", "-id"]
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "token_hash"], name="portal_calendarfeed_token"),
            models.UniqueConstraint(
                fields=["organization", "learner"],
                condition=Q(revoked_at__isnull=True),
                name="portal_calendarfeed_live",
            ),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of learner {self.learner_id}"
