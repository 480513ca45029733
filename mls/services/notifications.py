"""Notifications: in-app and by email."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from mls.mail import email_after_commit
from mls.models import Notification, Organization, User


def notify(*, organization: Organization, users: Iterable[User], title: str, body: str, url: str = "") -> None:
    """Tell members something twice: an in-app notification and an email (after the transaction commits)."""
    users = list(users)
    Notification.objects.bulk_create(
        Notification(organization=organization, user=user, title=title, body=body, url=url) for user in users
    )
    link = f"\n\n{settings.SITE_URL.rstrip('/')}{url}" if url else ""
    email_after_commit(subject=title, body=body + link, recipients=[user.email for user in users])


def mark_notifications_read(*, user: User, ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=now or timezone.now())
