"""Choices shared across MLS: roles and what each role may do (DESIGN.md §3)."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    LD_DIRECTOR = "ld_director", "L&D director"
    PROCUREMENT = "procurement", "Procurement"
    PROVIDER_MANAGER = "provider_manager", "Provider account manager"
    VIEWER = "viewer", "Viewer"


class Permission(models.TextChoices):
    MANAGE_MEMBERS = "manage_members", "Manage members and invitations"
    VIEW_AUDIT_LOG = "view_audit_log", "View the audit log"
    MANAGE_CONTRACTS = "manage_contracts", "Create and edit engagements, SoWs and pricing"
    MANAGE_VENUES = "manage_venues", "Maintain venues and rooms"
    MANAGE_SUPPLIERS = "manage_suppliers", "Maintain suppliers, instructors and their qualifications"
    MANAGE_COMPLIANCE = "manage_compliance", "Define mandatory training (compliance requirements)"
    MANAGE_SLAS = "manage_slas", "Set SLA schedules and targets; run the SLA computation"
    MANAGE_API_TOKENS = "manage_api_tokens", "Create and revoke API tokens"


# Client-side roles see everything of their organization; a provider manager sees only its Provider's work,
# which is why client-internal records such as the audit log are not theirs to read. A provider manager maintains
# suppliers and instructors of their own provider only; the services enforce that part.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Permission.values),
    Role.LD_DIRECTOR: frozenset(
        {Permission.VIEW_AUDIT_LOG, Permission.MANAGE_CONTRACTS, Permission.MANAGE_COMPLIANCE, Permission.MANAGE_SLAS}
    ),
    Role.PROCUREMENT: frozenset(
        {Permission.VIEW_AUDIT_LOG, Permission.MANAGE_CONTRACTS, Permission.MANAGE_SUPPLIERS, Permission.MANAGE_SLAS}
    ),
    Role.PROVIDER_MANAGER: frozenset({Permission.MANAGE_VENUES, Permission.MANAGE_SUPPLIERS}),
    Role.VIEWER: frozenset({Permission.VIEW_AUDIT_LOG}),
}
