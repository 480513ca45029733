"""Writes of the tenancy core: organizations, members, invitations. Each use case is atomic and audited.

One module per part of the domain: `organizations`, `invitations`, `members`, `notifications`, `tokens`. The
names the rest of the code uses are imported here.
"""

from .invitations import (
    accept_invitation,
    invitation_token,
    invitation_url,
    invite_member,
    read_invitation_token,
    revoke_invitation,
    send_invitation_email,
    sweep_invitation_emails,
)
from .members import change_member_role, remove_member, set_member_language
from .notifications import mark_notifications_read, notify
from .organizations import create_organization, create_pending_organization, update_organization_settings
from .tokens import api_token_hash, create_api_token, deactivate_user, note_api_token_use, revoke_api_token

__all__ = [
    "accept_invitation",
    "api_token_hash",
    "change_member_role",
    "create_api_token",
    "create_organization",
    "create_pending_organization",
    "deactivate_user",
    "invitation_token",
    "invitation_url",
    "invite_member",
    "mark_notifications_read",
    "note_api_token_use",
    "notify",
    "read_invitation_token",
    "remove_member",
    "revoke_api_token",
    "revoke_invitation",
    "send_invitation_email",
    "set_member_language",
    "sweep_invitation_emails",
    "update_organization_settings",
]
