"""Certificate pages: a member's download and revocation, and the public verification page. Thin over the
selectors and services."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mls.enums import Permission
from mls.views_support import write_and_say

from . import selectors, services
from .forms import RevokeForm
from .models import Certificate


def _learner_url(request: HttpRequest, learner_id: int) -> str:
    return reverse("scheduling:learner", kwargs={"organization_slug": request.organization.slug, "pk": learner_id})


@require_GET
def download(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The completion's certificate PDF, for whoever may read the completion (issued on first download)."""
    completion = get_object_or_404(selectors.visible_completions(request.membership), pk=pk)
    try:
        filename, content, mimetype = services.certificate_attachment(completion, actor=request.user)
    except services.CertificateRevoked:
        context = {"completion": completion, "learner_url": _learner_url(request, completion.learner_id)}
        return render(request, "certificates/revoked.html", context, status=410)
    response = HttpResponse(content, content_type=mimetype)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
def revoke(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Revoke a certificate, saying why (audited); its verification page says "revoked" from then on."""
    visible = selectors.visible_completions(request.membership)
    certificate = get_object_or_404(
        Certificate.objects.select_related("completion").filter(completion__in=visible), pk=pk
    )
    if not request.membership.has_permission(Permission.LOG_DELIVERY):
        raise PermissionDenied
    learner_url = _learner_url(request, certificate.completion.learner_id)
    form = RevokeForm(request.POST) if request.method == "POST" else RevokeForm()

    def page(invalid: RevokeForm | None = None, status: int = 200) -> HttpResponse:
        context = {"certificate": certificate, "form": invalid or form, "cancel_url": learner_url}
        return render(request, "certificates/revoke.html", context, status=status)

    if request.method != "POST":
        return page()
    return write_and_say(
        request,
        form,
        lambda valid: services.revoke_certificate(
            certificate=certificate, membership=request.membership, note=valid.cleaned_data["note"], now=timezone.now()
        ),
        saved=_("Certificate revoked: its verification page now says so."),
        url=learner_url,
        rerender=lambda invalid: page(invalid, status=400),
    )


@require_GET
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Public, no sign-in: the facts of the certificate the code names, in the learner's language; nothing else.
    The selector enters only the scope of the organization the code names."""
    facts = selectors.verification(code)
    if facts is None:
        raise Http404("Unknown certificate.")
    with translation.override(facts.language):
        response = render(request, "certificates/verify.html", {"facts": facts})
    response["Content-Language"] = facts.language
    return response
