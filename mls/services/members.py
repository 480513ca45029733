"""Members: changing a role and removing a member, never the last owner; a member's own language."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.enums import Language, Role
from mls.models import Membership, Provider, User

from .invitations import _check_provider_for_role
from .tokens import _revoke_tokens_created_by


def _ensure_another_owner_remains(membership: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(role=Role.OWNER).exclude(pk=membership.pk)
    if membership.role == Role.OWNER and not owners.exists():
        raise ValidationError(_("An organization needs at least one owner; make someone else owner first."))


@transaction.atomic
def change_member_role(
    *, membership: Membership, role: str, provider: Provider | None, actor: User, now: datetime | None = None
) -> Membership:
    """A demoted owner's API tokens are revoked with the change: they act with an owner's rights, and making the
    member owner again must not bring them back."""
    now = now or timezone.now()
    _check_provider_for_role(membership.organization, role, provider)
    if role != Role.OWNER:
        _ensure_another_owner_remains(membership)
    if membership.role == Role.OWNER and role != Role.OWNER:
        _revoke_tokens_created_by(membership.user, membership.organization, actor=actor, now=now)
    membership.role = role
    membership.provider = provider
    membership.save(update_fields=["role", "provider"])
    membership.log_action("member.role_changed", actor=actor)
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, actor: User, now: datetime | None = None) -> None:
    """The member's API tokens go with them (and stay revoked should they be invited back)."""
    now = now or timezone.now()
    _ensure_another_owner_remains(membership)
    _revoke_tokens_created_by(membership.user, membership.organization, actor=actor, now=now)
    membership.log_action("member.removed", actor=actor, deleted=True)
    membership.delete()


def set_member_language(*, user: User, language: str) -> User:
    """The language the member chose with the switcher: their pages are in it on every device they sign in on
    (mls.middleware.MemberLanguageMiddleware). An unknown code is refused, so a crafted post stores nothing."""
    if language not in Language.values:
        raise ValidationError({"language": _("Choose a language from the list.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user
