"""Organizations: creating one (sign-up, or "new organization") and its settings."""

from django.db import transaction
from django.utils.text import slugify

from mls.audit import save_audited
from mls.enums import Role
from mls.models import Membership, Organization, User


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "organization"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def create_organization(*, owner: User, name: str, **settings_: str) -> Organization:
    """Create an organization with `owner` as its first owner (sign-up, or "new organization")."""
    organization = Organization(name=name.strip(), slug=_unique_slug(name), **settings_)
    save_audited(organization, actor=owner, action="organization.created", changes={})
    membership = Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
    membership.log_action("member.added", actor=owner)
    return organization


@transaction.atomic
def update_organization_settings(*, organization: Organization, actor: User, **changes: object) -> Organization:
    """An owner edits the organization's settings (its calendar, currency, two-factor requirement), audited before
    → after; the slug stays, so links and API integrations keep working."""
    return save_audited(organization, actor=actor, action="organization.updated", changes=changes)


@transaction.atomic
def create_pending_organization(*, user: User) -> Organization | None:
    """Create the organization `user` named at sign-up, now that their email is verified; once (the user row is
    locked, so a confirmation link opened twice at the same moment creates one)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    name = user.pending_organization_name.strip()
    if not name:
        return None
    user.pending_organization_name = ""
    user.save(update_fields=["pending_organization_name"])
    return create_organization(owner=user, name=name)
