"""Writes of the vendors domain: providers, their suppliers, instructors and qualifications. Each atomic and audited.

The client's owners and procurement add and edit providers and invite their account managers (a provider is a
party to the client's contracts, so it never registers itself). They maintain every supplier and instructor; a
provider's account manager only those of their own provider, so one provider never edits another's
sub-contractors or trainers.
"""

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission, Role
from mls.models import Invitation, Membership, Provider
from mls.services import invite_member

from .models import Instructor, InstructorQualification, Supplier


def require_vendor_keeper(membership: Membership, provider: Provider) -> None:
    """May `membership` maintain the suppliers and instructors of `provider`?"""
    if not membership.has_permission(Permission.MANAGE_SUPPLIERS):
        raise ValidationError(_("Only owners, procurement and the provider's account managers maintain suppliers."))
    if provider.organization_id != membership.organization_id:
        raise ValidationError({"provider": _("Choose a provider of this organization.")})
    if not membership.acts_for(provider.pk):
        raise ValidationError(
            {
                "provider": _("You maintain only %(provider)s's suppliers and instructors.")
                % {"provider": membership.provider}
            }
        )


# --- Providers ---------------------------------------------------------------------------------


def require_provider_keeper(membership: Membership) -> None:
    """Only the client's owners and procurement add, edit and invite for providers (`MANAGE_PROVIDERS`).

    A refusal of the role, not of the input: the web answers it 403 and the API 403, never a field error.
    """
    if not membership.has_permission(Permission.MANAGE_PROVIDERS):
        raise PermissionDenied(_("Only owners and procurement maintain providers."))


def _check_provider_name(provider: Provider, name: str) -> None:
    # Case-insensitive: "Northwind" and "northwind" would be one provider to every reader of a contract.
    if Provider.objects.filter(name__iexact=name.strip()).exclude(pk=provider.pk).exists():
        raise ValidationError({"name": _("There is already a provider named %(name)s.") % {"name": name.strip()}})


@transaction.atomic
def add_provider(
    *, membership: Membership, name: str, contact_email: str = "", account_manager_email: str = ""
) -> Provider:
    """Add a provider and, given their address, invite its account manager in the same step (or neither)."""
    require_provider_keeper(membership)
    provider = Provider(organization=membership.organization)
    _check_provider_name(provider, name)
    provider = save_audited(
        provider,
        actor=membership.user,
        action="provider.added",
        changes={"name": name.strip(), "contact_email": contact_email.strip().lower()},
    )
    if account_manager_email.strip():
        try:
            invite_account_manager(provider=provider, membership=membership, email=account_manager_email.strip())
        except ValidationError as error:
            raise ValidationError({"account_manager_email": error.messages}) from error
    return provider


@transaction.atomic
def update_provider(*, provider: Provider, membership: Membership, **fields: Any) -> Provider:
    """Change the provider's name or contact email (only the fields given)."""
    require_provider_keeper(membership)
    changes = {name: value.strip() for name, value in fields.items()}
    if "contact_email" in changes:
        changes["contact_email"] = changes["contact_email"].lower()
    _check_provider_name(provider, changes.get("name", provider.name))
    return save_audited(provider, actor=membership.user, action="provider.updated", changes=changes)


@transaction.atomic
def invite_account_manager(*, provider: Provider, membership: Membership, email: str) -> Invitation:
    """Invite `email` as the provider's account manager: the members' invitation, bound to this provider."""
    require_provider_keeper(membership)
    return invite_member(
        organization=provider.organization,
        invited_by=membership.user,
        email=email,
        role=Role.PROVIDER_MANAGER,
        provider=provider,
    )


# --- Suppliers ---------------------------------------------------------------------------------


def _check_supplier(supplier: Supplier, provider: Provider, name: str) -> None:
    if Supplier.objects.filter(provider=provider, name=name).exclude(pk=supplier.pk).exists():
        raise ValidationError(
            {"name": _("%(provider)s already has a supplier named %(name)s.") % {"provider": provider, "name": name}}
        )
    if supplier.pk and provider.pk != supplier.provider_id and supplier.instructors.exists():
        raise ValidationError(
            {"provider": _("Its instructors work for the current provider: move or remove them before the supplier.")}
        )


@transaction.atomic
def add_supplier(*, membership: Membership, provider: Provider, **fields: Any) -> Supplier:
    require_vendor_keeper(membership, provider)
    supplier = Supplier(organization=provider.organization)
    _check_supplier(supplier, provider, fields.get("name", ""))
    return save_audited(
        supplier, actor=membership.user, action="supplier.added", changes={"provider": provider, **fields}
    )


@transaction.atomic
def update_supplier(*, supplier: Supplier, membership: Membership, provider: Provider, **fields: Any) -> Supplier:
    require_vendor_keeper(membership, supplier.provider)
    require_vendor_keeper(membership, provider)
    _check_supplier(supplier, provider, fields.get("name", supplier.name))
    return save_audited(
        supplier, actor=membership.user, action="supplier.updated", changes={"provider": provider, **fields}
    )


# --- Instructors and qualifications ------------------------------------------------------------


def _check_instructor(instructor: Instructor, provider: Provider, supplier: Supplier | None, email: str) -> None:
    if supplier is not None and supplier.provider_id != provider.pk:
        raise ValidationError(
            {
                "supplier": _("%(supplier)s is a supplier of %(its_provider)s, not of %(provider)s.")
                % {"supplier": supplier, "its_provider": supplier.provider, "provider": provider}
            }
        )
    if Instructor.objects.filter(email__iexact=email).exclude(pk=instructor.pk).exists():
        raise ValidationError({"email": _("Another instructor already has the email %(email)s.") % {"email": email}})
    if instructor.pk and provider.pk != instructor.provider_id and instructor.session_slots.exists():
        # Past sessions stay attributed to the provider that delivered them.
        raise ValidationError({"provider": _("This instructor has sessions with the current provider; add them anew.")})


@transaction.atomic
def add_instructor(
    *, membership: Membership, provider: Provider, supplier: Supplier | None = None, **fields: Any
) -> Instructor:
    require_vendor_keeper(membership, provider)
    instructor = Instructor(organization=provider.organization)
    _check_instructor(instructor, provider, supplier, fields.get("email", ""))
    return save_audited(
        instructor,
        actor=membership.user,
        action="instructor.added",
        changes={"provider": provider, "supplier": supplier, **fields},
    )


@transaction.atomic
def update_instructor(
    *, instructor: Instructor, membership: Membership, provider: Provider, supplier: Supplier | None = None,
    **fields: Any,
) -> Instructor:  # fmt: skip
    require_vendor_keeper(membership, instructor.provider)
    require_vendor_keeper(membership, provider)
    _check_instructor(instructor, provider, supplier, fields.get("email", instructor.email))
    return save_audited(
        instructor,
        actor=membership.user,
        action="instructor.updated",
        changes={"provider": provider, "supplier": supplier, **fields},
    )


@transaction.atomic
def add_qualification(
    *, instructor: Instructor, membership: Membership, name: str, expires_on: date | None = None
) -> InstructorQualification:
    require_vendor_keeper(membership, instructor.provider)
    if instructor.qualifications.filter(name__iexact=name).exists():
        raise ValidationError(
            {
                "name": _("%(instructor)s already holds %(name)s; remove it to record a renewal.")
                % {"instructor": instructor, "name": name}
            }
        )
    qualification = InstructorQualification(organization=instructor.organization, instructor=instructor)
    return save_audited(
        qualification,
        actor=membership.user,
        action="qualification.added",
        changes={"name": name, "expires_on": expires_on},
    )


@transaction.atomic
def remove_qualification(*, qualification: InstructorQualification, membership: Membership) -> None:
    require_vendor_keeper(membership, qualification.instructor.provider)
    qualification.log_action("qualification.removed", actor=membership.user, deleted=True)
    qualification.delete()
