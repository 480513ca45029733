"""Choices of the certificates domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Revocation(models.TextChoices):
    """Why a certificate no longer vouches for a completion (its verification page says "revoked")."""

    REVOKED = "revoked", _("Revoked by the organization")
    SUPERSEDED = "superseded", _("Replaced by a newer certificate: the completion's record changed")
    WITHDRAWN = "withdrawn", _("The completion record was withdrawn")


class VerificationStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")
