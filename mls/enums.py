"""Choices shared across MLS: roles and what each role may do (DESIGN.md §3)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    """The languages MLS speaks (settings.LANGUAGES): members' pages, learners' emails, portal and certificates."""

    EN_GB = "en-gb", "English"
    DE = "de", "Deutsch"


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    LD_DIRECTOR = "ld_director", _("L&D director")
    PROCUREMENT = "procurement", _("Procurement")
    PROVIDER_MANAGER = "provider_manager", _("Provider account manager")
    VIEWER = "viewer", _("Viewer")


class Permission(models.TextChoices):
    MANAGE_MEMBERS = "manage_members", _("Manage members and invitations")
    MANAGE_ORGANIZATION = (
        "manage_organization",
        _("Edit the organization's settings and who must use two-factor sign-in"),
    )
    VIEW_AUDIT_LOG = "view_audit_log", _("View the audit log")
    MANAGE_CONTRACTS = "manage_contracts", _("Create and edit engagements, SoWs and pricing")
    MANAGE_VENUES = "manage_venues", _("Maintain venues and rooms")
    MANAGE_SUPPLIERS = "manage_suppliers", _("Maintain suppliers, instructors and their qualifications")
    MANAGE_COMPLIANCE = "manage_compliance", _("Define mandatory training (compliance requirements)")
    MANAGE_SLAS = "manage_slas", _("Set SLA schedules and targets; run the SLA computation")
    MANAGE_WEBHOOKS = "manage_webhooks", _("Add webhook endpoints, see their deliveries and secrets")
    VIEW_COMMERCIALS = (
        "view_commercials",
        _("Read the client's budget, spend against it, annual values, fee statements and QBRs"),
    )

    EXPORT_ALL_DATA = "export_all_data", _("Export every table of the organization (data portability)")

    MANAGE_API_TOKENS = "manage_api_tokens", _("Create and revoke API tokens")

    # The provider's SLA inputs. Who holds them decides who could manufacture (or hide) a service credit, so the
    # web, CSV, API and xAPI all ask for these names; the services add "of this engagement's provider".
    LOG_DELIVERY = (
        "log_delivery",
        _("Log delivery: sessions, enrollments, attendance, completions, feedback, assessments, tickets, outages"),
    )
    IMPORT_DATA = "import_data", _("Upload and start CSV imports of learners and delivery data")
    MANAGE_COURSES = "manage_courses", _("Add and edit courses and record their content reviews")
    ASSIGN_COMPLIANCE = "assign_compliance", _("Assign mandatory training to learners and record its completion")
    MANAGE_PROVIDERS = "manage_providers", _("Add and edit providers and invite their account managers")

    # Governance of a signed contract, for one's own side (a provider manager: its provider's engagements only).
    PROPOSE_CHANGES = (
        "propose_changes",
        _("Propose and answer change requests, raise disputes, minute governance meetings"),
    )
    APPROVE_CHANGES = "approve_changes", _("Approve or reject change requests for one's side of the contract")
    # Support tickets are a conversation of both sides (a provider manager: its provider's engagements only).
    ANSWER_TICKETS = "answer_tickets", _("Reply to support tickets, assign them and resolve, close or reopen them")


# Client-side roles see everything of their organization; a provider manager sees only its Provider's work,
# which is why client-internal records such as the audit log are not theirs to read. A provider manager maintains
# suppliers and instructors of their own provider only; the services enforce that part. The budget, spend against
# it, annual values, fee statements and QBRs are the client's commercial record, so they stay client-side
# (Membership.sees_commercials).
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset(Permission.values),
    Role.LD_DIRECTOR: frozenset(
        {
            Permission.VIEW_AUDIT_LOG,
            Permission.MANAGE_CONTRACTS,
            Permission.MANAGE_COMPLIANCE,
            Permission.MANAGE_SLAS,
            Permission.VIEW_COMMERCIALS,
            Permission.MANAGE_COURSES,
            Permission.ASSIGN_COMPLIANCE,
            Permission.PROPOSE_CHANGES,
            Permission.APPROVE_CHANGES,
            Permission.ANSWER_TICKETS,
        }
    ),
    Role.PROCUREMENT: frozenset(
        {
            Permission.VIEW_AUDIT_LOG,
            Permission.MANAGE_CONTRACTS,
            Permission.MANAGE_SUPPLIERS,
            Permission.MANAGE_SLAS,
            Permission.VIEW_COMMERCIALS,
            Permission.MANAGE_PROVIDERS,
            Permission.PROPOSE_CHANGES,
            Permission.ANSWER_TICKETS,
        }
    ),
    Role.PROVIDER_MANAGER: frozenset(
        {
            Permission.MANAGE_VENUES,
            Permission.MANAGE_SUPPLIERS,
            Permission.LOG_DELIVERY,
            Permission.IMPORT_DATA,
            Permission.MANAGE_COURSES,
            Permission.ASSIGN_COMPLIANCE,
            Permission.PROPOSE_CHANGES,
            Permission.APPROVE_CHANGES,
            Permission.ANSWER_TICKETS,
        }
    ),
    Role.VIEWER: frozenset({Permission.VIEW_AUDIT_LOG, Permission.VIEW_COMMERCIALS}),
}


def roles_with(permission: str) -> list[str]:
    """The roles holding `permission`: who is told about what they are responsible for (reminders, results)."""
    return [role for role in Role.values if permission in ROLE_PERMISSIONS[role]]


class Credential(models.TextChoices):
    """How an audited change was made: by a member in the web app, or by an integration with an API token."""

    MEMBER = "member", _("A member (web app)")
    TOKEN = "token", _("An API token")


class WebhookEvent(models.TextChoices):
    """The domain events an integrator can subscribe to: audit actions announced by `mls.events.emit_after_commit`."""

    BREACH_CREATED = "breach.created", _("An SLA target was breached in a finalized period")
    CREDIT_ISSUED = "credit.issued", _("A service credit was issued for a breach")
    CREDIT_EARNED_BACK = "credit.earned_back", _("The provider earned a service credit back")
    ESCALATION_CREATED = "escalation.created", _("An SLA escalation was raised (notice, formal review, exit right)")
    QBR_READY = "qbr.ready", _("A quarterly business review PDF is ready")
    SESSION_CANCELLED = "session.cancelled", _("A training session was cancelled")


class EmailStatus(models.TextChoices):
    """An email sent by a worker (an invitation's): queued until a worker claims it, then sent once."""

    QUEUED = "queued", _("Waiting to be sent")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Not sent: the invitation closed first")
    FAILED = "failed", _("Not sent")


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    RETRYING = "retrying", _("Retrying")
    SUCCEEDED = "succeeded", _("Delivered")
    FAILED = "failed", _("Failed")
