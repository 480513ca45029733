"""The guard of every learner page: a signed-in learner (not a member), inside the learner's organization scope,
language and timezone."""

from collections.abc import Callable
from functools import wraps
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from mls.tenancy import organization_scope
from scheduling.models import Learner

from .learner_session import current_learner, end_learner_session

View = Callable[..., HttpResponse]


def learner_required(view: View) -> View:
    """Sends anyone but a signed-in learner to the portal's sign-in page; runs the view for the learner
    (`request.learner`) in their organization's scope, their language and their zone (else the organization's)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        identity = current_learner(request, now=timezone.now())
        if identity is None:
            return redirect("portal:sign_in")
        with organization_scope(identity.organization_id):
            learner = Learner.objects.select_related("organization").filter(pk=identity.learner_id).first()
            if learner is None:  # the record was removed since the sign-in
                end_learner_session(request)
                return redirect("portal:sign_in")
            zone = ZoneInfo(learner.timezone or learner.organization.timezone)
            with translation.override(learner.language), timezone.override(zone):
                request.learner = learner
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Content-Language", learner.language)
        patch_cache_control(response, no_store=True, private=True)
        return response

    return wrapped
