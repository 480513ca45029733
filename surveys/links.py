"""The signed, expiring survey link: it names the organization (the only scope the public page enters) and the
enrollment, and works for settings.SURVEY_LINK_MAX_AGE_DAYS after it was made."""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from scheduling.models import Enrollment

SURVEY_TOKEN_SALT = "mls.survey"  # noqa: S105 - a signing namespace, not a secret


def survey_window() -> timedelta:
    """How long a link works after it is sent; also how recently a session must have ended for its learners to be
    asked at all (a history import of older sessions asks nobody)."""
    return timedelta(days=settings.SURVEY_LINK_MAX_AGE_DAYS)


class SurveyLinkError(Exception):
    """The link cannot be read: tampered with, cut short, or not a survey link."""


class SurveyLinkExpired(SurveyLinkError):
    """The link is genuine but older than the survey window."""


def survey_token(enrollment: Enrollment) -> str:
    """Signed and timestamped: names the organization (the scope the page enters) and the enrollment."""
    return signing.dumps({"o": enrollment.organization_id, "e": enrollment.pk}, salt=SURVEY_TOKEN_SALT, compress=True)


def read_survey_token(token: str) -> tuple[int, int]:
    """(organization id, enrollment id) of a genuine link younger than the survey window."""
    try:
        data = signing.loads(token, salt=SURVEY_TOKEN_SALT, max_age=survey_window())
    except signing.SignatureExpired as error:
        raise SurveyLinkExpired from error
    except (signing.BadSignature, ValueError) as error:
        raise SurveyLinkError from error
    try:
        return int(data["o"]), int(data["e"])
    except (KeyError, TypeError, ValueError) as error:
        raise SurveyLinkError from error


def survey_url(enrollment: Enrollment) -> str:
    """The absolute link to the survey of `enrollment` (for emails and the learner portal)."""
    return settings.SITE_URL.rstrip("/") + reverse("surveys:answer", kwargs={"token": survey_token(enrollment)})
