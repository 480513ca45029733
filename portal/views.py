"""The learner portal's pages (`/learn/`): sign-in by a link sent by email, the learner's own training, their
calendar. Outside `/o/`: the tenant is the one the learner's session or the link's secret names."""

from contextlib import nullcontext

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certificates.services import CertificateRevoked, certificate_attachment
from mls.tenancy import organization_scope
from scheduling import calendars
from surveys.selectors import open_surveys_for

from . import selectors, services
from .decorators import learner_required
from .forms import SignInForm
from .learner_session import current_learner, end_learner_session, start_learner_session
from .services import LinkState, SignInLinkRefused, SignInRateLimited


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the X-Forwarded-For entry that many
    from the end (the address allauth's own sign-in limits key on)."""
    count = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if count and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Ask for a link by email. The answer is the same whether the address is known or not."""
    if request.method == "GET" and current_learner(request, now=timezone.now()) is not None:
        return redirect("portal:home")
    form = SignInForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_sign_in_links(email=form.cleaned_data["email"], client_ip=client_ip(request))
        except SignInRateLimited:
            return render(request, "portal/sign_in.html", {"form": form, "limited": True}, status=429)
        return render(request, "portal/sign_in.html", {"form": SignInForm(), "sent": True})
    return render(request, "portal/sign_in.html", {"form": form}, status=400 if form.is_bound else 200)


_REFUSED_STATUS = {LinkState.USED: 410, LinkState.EXPIRED: 410, LinkState.UNKNOWN: 404}


@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the email. GET only shows a button (mail scanners that open links must not spend it); the
    POST spends it and signs the learner in."""
    organization = services.secret_organization(token)
    if organization is None:
        return _link_page(request, LinkState.UNKNOWN)
    now = timezone.now()
    with organization_scope(organization):
        state, sign_in_link = services.sign_in_link_state(token, now=now)
        learner = sign_in_link.learner if sign_in_link else None
        with translation.override(learner.language) if learner else nullcontext():
            if state != LinkState.VALID or request.method == "GET":
                return _link_page(request, state, organization=organization)
            try:
                learner = services.use_sign_in_link(token, now=now)
            except SignInLinkRefused as refused:  # spent by another request since the state was read
                return _link_page(request, refused.state, organization=organization)
            start_learner_session(request, learner, now=now)
    return redirect("portal:home")


def _link_page(request: HttpRequest, state: LinkState, **context: object) -> HttpResponse:
    status = _REFUSED_STATUS.get(state, 200)
    response = render(request, "portal/link.html", {"state": state, **context}, status=status)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if current_learner(request, now=timezone.now()) is not None:
        end_learner_session(request)
        messages.success(request, _("You are signed out."))
    return redirect("portal:sign_in")


@require_GET
@learner_required
def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    overview = selectors.portal_overview(request.learner, now=now)
    context = {
        "today": timezone.localdate(now),
        "learner": request.learner,
        "organization": request.learner.organization,
        "overview": overview,
        "surveys": open_surveys_for(request.learner, timezone.now()),
    }
    return render(request, "portal/home.html", context)


@require_GET
@learner_required
def session_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """One of the learner's sessions as an .ics download; any other session is 404."""
    session = selectors.learner_session(request.learner, pk)
    if session is None:
        raise Http404("No such session.")
    return _ics_response(calendars.session_calendar(session), f"session-{session.pk}.ics", attachment=True)


@require_GET
@learner_required
def certificate(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate PDF of one of the learner's completions; any other completion is 404."""
    completion = selectors.learner_completion(request.learner, pk)
    if completion is None:
        raise Http404("No such completion.")
    try:
        filename, content, mimetype = certificate_attachment(completion)
    except CertificateRevoked:
        context = {"learner": request.learner, "completion": completion}
        return render(request, "portal/certificate_revoked.html", context, status=410)
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_POST
@learner_required
def calendar_feed_issue(request: HttpRequest) -> HttpResponse:
    """A new feed URL (the previous one stops working), shown once, on the page that answers the POST."""
    feed, raw = services.issue_calendar_feed(learner=request.learner)
    url = settings.SITE_URL.rstrip("/") + reverse("portal:calendar_feed", kwargs={"token": raw})
    return render(request, "portal/calendar_feed.html", {"learner": request.learner, "feed": feed, "feed_url": url})


@require_POST
@learner_required
def calendar_feed_revoke(request: HttpRequest) -> HttpResponse:
    if services.revoke_calendar_feed(learner=request.learner):
        messages.success(request, _("Your calendar feed is switched off. Its address no longer works."))
    return redirect("portal:home")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscribable feed: no session (calendar apps fetch it on their own), the secret in the URL is the key."""
    organization = services.secret_organization(token)
    if organization is None:
        raise Http404("No such calendar.")
    with organization_scope(organization):
        feed = selectors.feed_by_secret(token)
        if feed is None:
            raise Http404("No such calendar.")
        data = calendars.learner_calendar(feed.learner, selectors.feed_sessions(feed.learner))
    return _ics_response(data, "training.ics", attachment=False)


def _ics_response(data: bytes, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'{"attachment" if attachment else "inline"}; filename="{filename}"'
    patch_cache_control(response, no_store=True, private=True)
    return response
