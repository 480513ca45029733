"""Support tickets: logging them, their conversation, status and assignee, and the SLA timestamps on them.

The rule the support SLA rests on: the first response is the first provider-side reply. Posting it sets
`first_response_at` to the reply's time (the system's clock), so `support_first_response` keeps reading that one
field. History loaded without a conversation (CSV import, API upsert, the "record response times" form) may still
record a first response; once a provider reply exists, the reply wins and a recorded time no longer changes it
(`first_response_of`, which every path calls).
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements.enums import Side
from engagements.models import Engagement
from mls.enums import Permission
from mls.models import Membership, User
from mls.services.notifications import notify
from scheduling.enums import TICKET_TRANSITIONS, TicketStatus
from scheduling.models import Learner, SupportTicket, TicketReply

from ._common import require_delivery_writer


@transaction.atomic
def log_ticket(
    *,
    engagement: Engagement,
    membership: Membership,
    category: str,
    subject: str,
    opened_at: datetime,
    learner: Learner | None = None,
) -> SupportTicket:
    require_delivery_writer(membership, engagement)
    ticket = SupportTicket(
        organization=engagement.organization,
        engagement=engagement,
        learner=learner,
        category=category,
        subject=subject,
        opened_at=opened_at,
    )
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.logged", actor=membership.user)
    return ticket


def answering_side(membership: Membership, ticket: SupportTicket) -> str:
    """The side `membership` writes for in `ticket`'s conversation; refuses viewers and another provider's
    account managers. The pages ask it (through `{% may %}`) before offering the reply form."""
    if not membership.has_permission(Permission.ANSWER_TICKETS) or not membership.acts_for(
        ticket.engagement.provider_id
    ):
        raise ValidationError(_("Your role cannot answer this engagement's support tickets."))
    return Side.PROVIDER if membership.is_provider_side else Side.CLIENT


def check_reply(membership: Membership, ticket: SupportTicket) -> str:
    """May `membership` reply to `ticket` now: a side of the conversation, on a ticket that is not closed."""
    side = answering_side(membership, ticket)
    if ticket.status == TicketStatus.CLOSED:
        raise ValidationError({"body": _("The ticket is closed: log a new ticket for a new question.")})
    return side


def first_response_of(recorded: datetime | None, first_provider_reply_at: datetime | None) -> datetime | None:
    """The ticket's first response: its first provider reply when there is one, else the recorded time."""
    return first_provider_reply_at or recorded


def status_from_history(
    status: str, *, first_response_at: datetime | None, resolved_at: datetime | None, last_reply_side: str | None
) -> str:
    """The status a ticket's recorded times imply when history is loaded: resolved once it has a resolution (a
    closed ticket stays closed), otherwise whose turn it is."""
    if resolved_at:
        return TicketStatus.CLOSED if status == TicketStatus.CLOSED else TicketStatus.RESOLVED
    if last_reply_side == Side.CLIENT:
        return TicketStatus.WAITING_ON_PROVIDER
    if last_reply_side == Side.PROVIDER or first_response_at:
        return TicketStatus.WAITING_ON_CLIENT
    return TicketStatus.OPEN


def _first_provider_reply_at(ticket: SupportTicket) -> datetime | None:
    first = ticket.replies.filter(side=Side.PROVIDER).order_by("created_at", "pk").first()
    return first.created_at if first else None


def _locked(ticket: SupportTicket) -> SupportTicket:
    """The ticket re-read under a row lock: two first replies at once must not both count as the first."""
    return SupportTicket.objects.select_for_update(of=("self",)).select_related("engagement").get(pk=ticket.pk)


@transaction.atomic
def post_reply(*, ticket: SupportTicket, membership: Membership, body: str, now: datetime | None = None) -> TicketReply:
    """Add a message to the conversation. The first provider reply is the ticket's first response; a reply hands
    the turn to the other side, and a client reply reopens a resolved ticket (its resolution did not hold)."""
    ticket = _locked(ticket)
    side = check_reply(membership, ticket)
    now = now or timezone.now()
    if not body.strip():
        raise ValidationError({"body": _("Write a reply.")})
    if now < ticket.opened_at:
        raise ValidationError({"body": _("The ticket opens later than now: a reply cannot precede it.")})
    reply = TicketReply(
        organization=ticket.organization,
        ticket=ticket,
        author=membership.user,
        side=side,
        body=body.strip(),
        created_at=now,
    )
    reply.full_clean()
    reply.save()
    reply.log_action("ticket.replied", actor=membership.user)

    before = ticket.audited_state()
    if side == Side.PROVIDER:
        ticket.first_response_at = first_response_of(ticket.first_response_at, _first_provider_reply_at(ticket))
        if ticket.status != TicketStatus.RESOLVED:
            ticket.status = TicketStatus.WAITING_ON_CLIENT
    else:
        ticket.status, ticket.resolved_at = TicketStatus.WAITING_ON_PROVIDER, None
    if ticket.audited_state() != before:
        ticket.full_clean()
        ticket.save()
        ticket.log_action("ticket.updated", actor=membership.user)
    _tell_the_other_side(ticket, reply)
    return reply


def _tell_the_other_side(ticket: SupportTicket, reply: TicketReply) -> None:
    """Notify who is waiting for this reply: the other side's members in the conversation and the assignee when on
    that side; a client reply nobody on the provider side has taken up yet goes to the provider's managers."""
    other = Side.CLIENT if reply.side == Side.PROVIDER else Side.PROVIDER
    authors = ticket.replies.filter(side=other, author__isnull=False).values("author")
    # A membership names a provider exactly when it is a provider's account manager.
    of_other_side = Q(provider=ticket.engagement.provider_id) if other == Side.PROVIDER else Q(provider__isnull=True)
    members = Membership.objects.filter(of_other_side, Q(user__in=authors) | Q(pk=ticket.assignee_id))
    if other == Side.PROVIDER and not members.exists():
        members = Membership.objects.filter(of_other_side)
    users = User.objects.filter(memberships__in=members).distinct()
    url = reverse("scheduling:ticket", kwargs={"organization_slug": ticket.organization.slug, "pk": ticket.pk})
    author = reply.author.get_full_name() or reply.author.email
    notify(
        organization=ticket.organization,
        users=users,
        title=(_("%(subject)s: provider replied") if reply.side == Side.PROVIDER else _("%(subject)s: client replied"))
        % {"subject": ticket.subject},
        body=_("%(author)s (%(side)s) wrote:\n\n%(body)s")
        % {"author": author, "side": reply.get_side_display(), "body": reply.body[:500]},
        url=url,
    )


def allowed_statuses(membership: Membership, ticket: SupportTicket) -> list[str]:
    """The statuses `membership` may move `ticket` to now: what the status control offers."""
    allowed = []
    for status in TICKET_TRANSITIONS:
        try:
            check_status(membership, ticket, status)
        except ValidationError:
            continue
        allowed.append(status)
    return allowed


def check_status(membership: Membership, ticket: SupportTicket, status: str) -> None:
    """Refuse a status change the ticket's state or the member's role does not allow. Resolving is the provider's
    (owners may correct), and needs a first response; closing and reopening a resolved ticket is either side's."""
    answering_side(membership, ticket)
    if ticket.status not in TICKET_TRANSITIONS.get(status, ()):
        raise ValidationError(
            {
                "status": _("A ticket that is %(status)s cannot be set to that status.")
                % {"status": ticket.get_status_display().lower()}
            }
        )
    if status == TicketStatus.RESOLVED:
        require_delivery_writer(membership, ticket.engagement)
        if not ticket.first_response_at:
            raise ValidationError({"status": _("Reply to the ticket before resolving it: it has no first response.")})


@transaction.atomic
def set_ticket_status(
    *, ticket: SupportTicket, membership: Membership, status: str, now: datetime | None = None
) -> SupportTicket:
    """Resolve, close or reopen a ticket. Resolving records `resolved_at` (the audit-report SLA reads it);
    reopening clears it."""
    ticket = _locked(ticket)
    check_status(membership, ticket, status)
    now = now or timezone.now()
    if status == TicketStatus.RESOLVED:
        ticket.resolved_at = max(now, ticket.opened_at)
    elif status == TicketStatus.WAITING_ON_PROVIDER:
        ticket.resolved_at = None
    ticket.status = status
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.status_changed", actor=membership.user)
    return ticket


def check_assignee(ticket: SupportTicket, assignee: Membership | None) -> None:
    """An assignee is a member who may answer the ticket: client-side, or a manager of the ticket's provider."""
    if assignee is None:
        return
    try:
        answering_side(assignee, ticket)
    except ValidationError:
        raise ValidationError(
            {"assignee": _("%(member)s cannot answer this engagement's tickets.") % {"member": assignee.user}}
        ) from None


@transaction.atomic
def assign_ticket(*, ticket: SupportTicket, membership: Membership, assignee: Membership | None) -> SupportTicket:
    """Give the ticket to a member of either side who may answer it (or to nobody)."""
    ticket = _locked(ticket)
    answering_side(membership, ticket)
    check_assignee(ticket, assignee)
    ticket.assignee = assignee
    ticket.save()
    ticket.log_action("ticket.assigned", actor=membership.user)
    return ticket


@transaction.atomic
def update_ticket_times(
    *,
    ticket: SupportTicket,
    membership: Membership,
    first_response_at: datetime | None,
    resolved_at: datetime | None,
) -> SupportTicket:
    """Record when the learner got a first answer and when the ticket was resolved: history kept outside MLS.
    A ticket with a provider reply keeps the reply's time as its first response."""
    ticket = _locked(ticket)
    require_delivery_writer(membership, ticket.engagement)
    # Checked before anything is set on the ticket, so a refused value is never shown as if it were saved.
    first = first_response_of(first_response_at or ticket.first_response_at, _first_provider_reply_at(ticket))
    resolved = resolved_at or ticket.resolved_at
    errors = {}
    if resolved and not first:
        errors["first_response_at"] = _("A resolved ticket has had a first response: record it.")
    if first and first < ticket.opened_at:
        errors["first_response_at"] = _("The first response cannot precede the ticket's opening.")
    if resolved and resolved < ticket.opened_at:
        errors["resolved_at"] = _("The resolution cannot precede the ticket's opening.")
    if errors:
        raise ValidationError(errors)
    last = ticket.replies.order_by("-created_at", "-pk").values_list("side", flat=True).first()
    ticket.first_response_at, ticket.resolved_at = first, resolved
    ticket.status = status_from_history(
        ticket.status, first_response_at=first, resolved_at=resolved, last_reply_side=last
    )
    ticket.full_clean()
    ticket.save()
    ticket.log_action("ticket.updated", actor=membership.user)
    return ticket
