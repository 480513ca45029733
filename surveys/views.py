"""The public survey page (no login): the signed link names the organization, whose scope alone is entered, and
the enrollment; the page speaks the learner's language and shows times in the learner's zone."""

from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mls.tenancy import organization_scope
from scheduling.enums import SessionStatus
from scheduling.models import Enrollment
from scheduling.services import ALREADY_RATED, learner_feedback_refusals

from . import selectors, services
from .forms import SurveyForm
from .links import SurveyLinkError, SurveyLinkExpired


def _closed(request: HttpRequest, message: str, status: int, enrollment: Enrollment | None = None) -> HttpResponse:
    context = {"message": message, "enrollment": enrollment}
    if enrollment is not None:
        context["zone"] = selectors.learner_zone(enrollment)
    return render(request, "surveys/closed.html", context, status=status)


def _refused(request: HttpRequest, enrollment: Enrollment, error: ValidationError) -> HttpResponse:
    """The page for a learner who may not answer: already answered (409), a cancelled session (410), or what the
    feedback rules say (400)."""
    codes = {item.code for items in error.error_dict.values() for item in items}
    if ALREADY_RATED in codes:
        return _closed(request, _("You have already answered this survey. Thank you!"), 409, enrollment)
    status = 410 if enrollment.session.status == SessionStatus.CANCELLED else 400
    return _closed(request, " ".join(error.messages), status, enrollment)


def _survey(request: HttpRequest, enrollment: Enrollment) -> HttpResponse:
    now = timezone.now()
    invitation = selectors.survey_invitation(enrollment)
    if invitation is not None and invitation.expires_at <= now:
        return _closed(request, _("This survey link has expired."), 410, enrollment)
    refusals = learner_feedback_refusals(enrollment=enrollment, now=now)
    if refusals:
        return _refused(request, enrollment, ValidationError(refusals))
    form = SurveyForm(request.POST or None)
    if form.is_valid():
        try:
            services.answer_survey(enrollment, services.Answer(**form.cleaned_data), now=now)
        except ValidationError as error:
            return _refused(request, enrollment, error)
        return render(request, "surveys/answered.html", {"enrollment": enrollment})
    context = {"form": form, "enrollment": enrollment, "zone": selectors.learner_zone(enrollment)}
    return render(request, "surveys/answer.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    try:
        organization_id, enrollment_id = services.read_survey_token(token)
    except SurveyLinkExpired:
        return _closed(request, _("This survey link has expired."), 410)
    except SurveyLinkError:
        return _closed(request, _("This survey link is not valid. Please use the link from your email."), 400)
    with organization_scope(organization_id):
        enrollment = selectors.survey_enrollment(enrollment_id)
        if enrollment is None:
            return _closed(request, _("This survey link is not valid. Please use the link from your email."), 400)
        zone = ZoneInfo(selectors.learner_zone(enrollment))
        with translation.override(enrollment.learner.language), timezone.override(zone):
            return _survey(request, enrollment)
