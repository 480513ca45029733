"""Venues and their rooms."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mls.audit import save_audited
from mls.enums import Permission
from mls.models import Membership
from scheduling.enums import OCCUPYING_STATUSES
from scheduling.models import Room, Venue


def _require_venue_keeper(membership: Membership) -> None:
    if not membership.has_permission(Permission.MANAGE_VENUES):
        raise ValidationError(_("Only owners and the provider's account managers maintain venues and rooms."))


def _refuse_duplicate_venue(venue: Venue, name: str) -> None:
    if Venue.objects.filter(name=name).exclude(pk=venue.pk).exists():
        raise ValidationError({"name": _("A venue named %(name)s already exists.") % {"name": name}})


@transaction.atomic
def add_venue(*, organization: Any, membership: Membership, **fields: Any) -> Venue:
    _require_venue_keeper(membership)
    venue = Venue(organization=organization)
    _refuse_duplicate_venue(venue, fields.get("name", ""))
    return save_audited(venue, actor=membership.user, action="venue.added", changes=fields)


@transaction.atomic
def update_venue(*, venue: Venue, membership: Membership, **fields: Any) -> Venue:
    _require_venue_keeper(membership)
    _refuse_duplicate_venue(venue, fields.get("name", venue.name))
    return save_audited(venue, actor=membership.user, action="venue.updated", changes=fields)


def _check_room(room: Room, name: str, capacity: int | None, now: datetime) -> None:
    """A unique name within the venue, and enough seats for the sessions already booked in the room."""
    if Room.objects.filter(venue=room.venue_id, name=name).exclude(pk=room.pk).exists():
        raise ValidationError(
            {"name": _("%(venue)s already has a room named %(name)s.") % {"venue": room.venue, "name": name}}
        )
    if room.pk and capacity is not None:
        larger = room.sessions.filter(status__in=OCCUPYING_STATUSES, ends_at__gt=now, capacity__gt=capacity).count()
        if larger:
            raise ValidationError(
                {
                    "capacity": _(
                        "%(sessions)s confirmed session(s) to come in this room seat more than %(capacity)s: "
                        "lower their capacity or move them first."
                    )
                    % {"sessions": larger, "capacity": capacity}
                }
            )


@transaction.atomic
def add_room(*, venue: Venue, membership: Membership, now: datetime | None = None, **fields: Any) -> Room:
    now = now or timezone.now()
    _require_venue_keeper(membership)
    room = Room(organization=venue.organization, venue=venue)
    _check_room(room, fields.get("name", ""), fields.get("capacity"), now)
    return save_audited(room, actor=membership.user, action="room.added", changes=fields)


@transaction.atomic
def update_room(*, room: Room, membership: Membership, now: datetime | None = None, **fields: Any) -> Room:
    now = now or timezone.now()
    _require_venue_keeper(membership)
    _check_room(room, fields.get("name", room.name), fields.get("capacity"), now)
    return save_audited(room, actor=membership.user, action="room.updated", changes=fields)
