"""The learner's sign-in, kept in the Django session beside (never together with) a member's.

A learner is not a member: signing a learner in signs out a member in the same browser, a member signing in ends
the learner's session (mls' user_logged_in receivers), and the portal ignores a learner key while a member is signed
in. The learner session ends as a member's does, after SESSION_IDLE_TIMEOUT without a request or
SESSION_ABSOLUTE_LIFETIME after sign-in (mls.middleware.SessionLifetimeMiddleware's rule).
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from mls.middleware import LAST_SEEN_RESOLUTION
from mls.models import User
from scheduling.models import Learner

SESSION_KEY = "portal_learner"


@dataclass(frozen=True)
class LearnerIdentity:
    organization_id: int
    learner_id: int


def start_learner_session(request: HttpRequest, learner: Learner, *, now: datetime) -> None:
    if request.user.is_authenticated:
        logout(request)  # flushes the member's session: one browser is one person, a learner or a member
    request.session.cycle_key()  # a new session id at sign-in (no fixation)
    stamp = now.timestamp()
    request.session[SESSION_KEY] = {
        "organization_id": learner.organization_id,
        "learner_id": learner.pk,
        "signed_in_at": stamp,
        "last_seen_at": stamp,
    }


def end_learner_session(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def end_learner_session_on_member_sign_in(
    sender: type[User], request: HttpRequest, user: User, **kwargs: object
) -> None:
    """user_logged_in receiver: a member is not a learner."""
    if request is not None and hasattr(request, "session"):
        request.session.pop(SESSION_KEY, None)


def current_learner(request: HttpRequest, *, now: datetime) -> LearnerIdentity | None:
    """The signed-in learner's ids, or None (nobody, a member, or a session past its lifetime, which is ended)."""
    if request.user.is_authenticated:
        return None
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    stamp = now.timestamp()
    if (
        stamp - data["last_seen_at"] > settings.SESSION_IDLE_TIMEOUT
        or stamp - data["signed_in_at"] > settings.SESSION_ABSOLUTE_LIFETIME
    ):
        end_learner_session(request)
        return None
    if stamp - data["last_seen_at"] >= LAST_SEEN_RESOLUTION:
        request.session[SESSION_KEY] = {**data, "last_seen_at": stamp}
    return LearnerIdentity(data["organization_id"], data["learner_id"])
