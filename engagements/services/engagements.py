"""Engagements: creating one and editing its terms."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls.audit import save_audited
from mls.models import User


def _require_own_provider(organization_id: int, fields: dict[str, Any]) -> None:
    provider = fields.get("provider")
    if provider is not None and provider.organization_id != organization_id:
        raise ValidationError({"provider": _("Choose a provider of this organization.")})


def _refuse_taken_external_id(engagement: Engagement, fields: dict[str, Any]) -> None:
    """An integration finds the engagement by its external_id, so two engagements never share one."""
    external_id = fields.get("external_id", "")
    other = (
        Engagement.objects.filter(external_id=external_id).exclude(pk=engagement.pk).first() if external_id else None
    )
    if other is not None:
        message = _("Engagement %(other)s already has external_id %(external_id)s.")
        raise ValidationError({"external_id": message % {"other": other.name, "external_id": external_id}})


@transaction.atomic
def create_engagement(*, organization: Any, actor: User, **fields: Any) -> Engagement:
    _require_own_provider(organization.pk, fields)
    _refuse_taken_external_id(Engagement(), fields)
    engagement = Engagement(organization=organization, **fields)
    return save_audited(engagement, actor=actor, action="engagement.created", changes={})


@transaction.atomic
def update_engagement(*, engagement: Engagement, actor: User, **fields: Any) -> Engagement:
    _require_own_provider(engagement.organization_id, fields)
    _refuse_taken_external_id(engagement, fields)
    return save_audited(engagement, actor=actor, action="engagement.updated", changes=fields)
