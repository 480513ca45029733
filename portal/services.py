"""Writes of the learner portal: sign-in links (requested, sent, used once), sign-in rate limits, calendar feeds.

A raw secret is `<organization id>_<random>`: the organization id lets the request enter the tenant's scope before
the row is looked up by the secret's SHA-256 (the random part is 256 bits, so a fast hash is enough). The raw value
exists only in the learner's email or on the page that issued it.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import TextChoices
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mls.audit import record_event
from mls.cache import count_in_window
from mls.mail import email_after_commit
from mls.models import Organization
from mls.tenancy import organization_scope
from scheduling.models import Learner

from .models import LearnerCalendarFeed, LearnerSignInLink

SIGN_IN_LINK_VALID_FOR = timedelta(minutes=15)
# Sign-in requests per address and per client address in each clock hour; one more is refused (not counted twice).
SIGN_IN_REQUESTS_PER_HOUR = 5
_RATE_WINDOW = timedelta(hours=1)


class LinkState(TextChoices):
    """What a sign-in link is worth (the link page words each state for the learner)."""

    VALID = "valid"
    USED = "used"
    EXPIRED = "expired"
    UNKNOWN = "unknown"


class SignInRateLimited(Exception):
    """Too many sign-in requests for this address or from this client in the current hour."""


class SignInLinkRefused(Exception):
    def __init__(self, state: LinkState) -> None:
        super().__init__(state)
        self.state = state


def secret_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _new_secret(organization_id: int) -> str:
    return f"{organization_id}_{secrets.token_urlsafe(32)}"


def secret_organization(raw: str) -> Organization | None:
    """The organization a raw secret names, or None for a malformed one or an unknown organization."""
    prefix, separator, rest = raw.partition("_")
    if not separator or not rest or not prefix.isdigit() or len(prefix) > 18:
        return None
    return Organization.objects.filter(pk=int(prefix)).first()


# --- Rate limit ------------------------------------------------------------------------------------------------


def _consume(kind: str, value: str, now: datetime) -> bool:
    """Count one request for (kind, value) in the clock hour holding `now` (mls.cache.count_in_window, as the API
    throttle counts); False once past the hour's limit. The value is hashed so the cache never holds an email."""
    key = f"portal:sign-in:{kind}:{secret_hash(value)}"
    seconds = int(_RATE_WINDOW.total_seconds())
    return count_in_window(cache, key, seconds=seconds, now=now.timestamp()) <= SIGN_IN_REQUESTS_PER_HOUR


def check_sign_in_rate(*, email: str, client_ip: str, now: datetime) -> None:
    """Raise SignInRateLimited when this address or this client asked too often this hour. Both are counted on
    every request, known address or not, so the answer says nothing about whether the address is known."""
    email_allowed = _consume("email", email.strip().lower(), now)
    ip_allowed = _consume("ip", client_ip, now)
    if not (email_allowed and ip_allowed):
        raise SignInRateLimited


# --- Sign-in links ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    link: LearnerSignInLink
    raw: str


def request_sign_in_links(*, email: str, client_ip: str, now: datetime | None = None) -> list[IssuedLink]:
    """Send a sign-in link to `email` for every organization that has a learner with that address (an address may
    be a learner of several clients: one email per organization, each naming it). Returns what was sent, for the
    caller's tests only: the page answers the same whatever this returns. Raises SignInRateLimited."""
    now = now or timezone.now()
    check_sign_in_rate(email=email, client_ip=client_ip, now=now)
    email = email.strip()
    # Organization is not a tenant table: which tenants know the address is found without entering any scope, and
    # each learner is then read inside its own organization's scope.
    organization_ids = (
        Organization.objects.filter(scheduling_learner__email__iexact=email)
        .order_by("pk")
        .values_list("pk", flat=True)
        .distinct()
    )
    issued = []
    for organization_id in organization_ids:
        with organization_scope(organization_id):
            learner = Learner.objects.select_related("organization").filter(email__iexact=email).order_by("pk").first()
            if learner is not None:
                issued.append(issue_sign_in_link(learner=learner, now=now))
    return issued


@transaction.atomic
def issue_sign_in_link(*, learner: Learner, now: datetime) -> IssuedLink:
    raw = _new_secret(learner.organization_id)
    link = LearnerSignInLink.objects.create(
        organization_id=learner.organization_id,
        learner=learner,
        token_hash=secret_hash(raw),
        created_at=now,
        expires_at=now + SIGN_IN_LINK_VALID_FOR,
    )
    send_sign_in_link(learner=learner, raw=raw)
    return IssuedLink(link, raw)


def send_sign_in_link(*, learner: Learner, raw: str) -> None:
    """The sign-in email, in the learner's language, after the link's row commits.

    # integration: route through communications.queue_learner_message
    """
    url = settings.SITE_URL.rstrip("/") + reverse("portal:link", kwargs={"token": raw})
    minutes = int(SIGN_IN_LINK_VALID_FOR.total_seconds() // 60)
    with translation.override(learner.language):
        subject = _("Your sign-in link for %(organization)s") % {"organization": learner.organization.name}
        body = render_to_string(
            "portal/email/sign_in_link.txt",
            {"learner": learner, "organization": learner.organization, "url": url, "minutes": minutes},
        )
    email_after_commit(subject=subject, body=body, recipients=[learner.email])


def sign_in_link_state(raw: str, *, now: datetime) -> tuple[LinkState, LearnerSignInLink | None]:
    """What a link is worth now (inside the scope of the organization it names)."""
    link = LearnerSignInLink.objects.select_related("learner").filter(token_hash=secret_hash(raw)).first()
    if link is None:
        return LinkState.UNKNOWN, None
    if link.used_at is not None:
        return LinkState.USED, link
    if link.expires_at <= now:
        return LinkState.EXPIRED, link
    return LinkState.VALID, link


@transaction.atomic
def use_sign_in_link(raw: str, *, now: datetime | None = None) -> Learner:
    """Spend the link: the learner it signs in, or SignInLinkRefused. Marked used by one conditional UPDATE, so two
    requests racing with the same link sign in once."""
    now = now or timezone.now()
    spent = LearnerSignInLink.objects.filter(
        token_hash=secret_hash(raw), used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    state, link = sign_in_link_state(raw, now=now)
    if not spent:
        raise SignInLinkRefused(state)
    learner = link.learner
    record_event(
        organization=learner.organization, actor=None, action="portal.learner_signed_in", obj=learner, after={}
    )
    return learner


# --- Calendar feed ---------------------------------------------------------------------------------------------


@transaction.atomic
def issue_calendar_feed(*, learner: Learner, now: datetime | None = None) -> tuple[LearnerCalendarFeed, str]:
    """A new feed URL secret for the learner (the previous one stops working); the raw value is returned once."""
    now = now or timezone.now()
    revoke_calendar_feed(learner=learner, now=now)
    raw = _new_secret(learner.organization_id)
    feed = LearnerCalendarFeed(
        organization_id=learner.organization_id, learner=learner, token_hash=secret_hash(raw), created_at=now
    )
    feed.save()
    feed.log_action("portal.calendar_feed_issued", actor=None)
    return feed, raw


@transaction.atomic
def revoke_calendar_feed(*, learner: Learner, now: datetime | None = None) -> bool:
    """Stop the learner's live feed, if there is one (its URL then answers 404)."""
    feed = LearnerCalendarFeed.objects.select_for_update().filter(learner=learner, revoked_at__isnull=True).first()
    if feed is None:
        return False
    feed.revoked_at = now or timezone.now()
    feed.save()
    feed.log_action("portal.calendar_feed_revoked", actor=None)
    return True
