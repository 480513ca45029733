"""Who may write delivery data: the rule every delivery service checks first."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from engagements.models import Engagement
from mls.enums import Permission
from mls.models import Membership


def require_delivery_writer(membership: Membership, engagement: Engagement) -> None:
    """LOG_DELIVERY, and for a provider's account manager only on its provider's engagements: the provider logs
    its own delivery, the owners may correct anything."""
    if not membership.has_permission(Permission.LOG_DELIVERY) or not membership.acts_for(engagement.provider_id):
        raise ValidationError(_("Only the provider's account managers log delivery for this engagement."))
