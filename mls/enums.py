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


# Client-side roles see everything of their organization; a provider manager sees only its Provider's work,
# which is why client-internal records such as the audit log are not theirs to read.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({Permission.MANAGE_MEMBERS, Permission.VIEW_AUDIT_LOG, Permission.MANAGE_CONTRACTS}),
    Role.LD_DIRECTOR: frozenset({Permission.VIEW_AUDIT_LOG, Permission.MANAGE_CONTRACTS}),
    Role.PROCUREMENT: frozenset({Permission.VIEW_AUDIT_LOG, Permission.MANAGE_CONTRACTS}),
    Role.PROVIDER_MANAGER: frozenset(),
    Role.VIEWER: frozenset({Permission.VIEW_AUDIT_LOG}),
}
