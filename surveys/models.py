"""Post-session surveys: the ledger of the links sent, so each present learner is asked once."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from mls.models import TenantModel


class SurveyInvitation(TenantModel):
    """A learner asked, once, to rate the session of `enrollment` (surveys.services.invite_present_learners); the
    link works until `expires_at`, and `answered_at` says when the learner answered through it."""

    enrollment = models.ForeignKey(
        "scheduling.Enrollment",
        on_delete=models.CASCADE,
        related_name="survey_invitations",
        verbose_name=_("enrollment"),
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta(TenantModel.Meta):
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            *TenantModel.Meta.constraints,
            models.UniqueConstraint(fields=["organization", "enrollment"], name="surveys_invitation_once"),
        ]

    def __str__(self) -> str:
        return f"Survey for enrollment {self.enrollment_id}"
