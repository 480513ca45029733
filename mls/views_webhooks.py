"""Settings → Webhooks: the owner's endpoints, their secrets and delivery logs. Thin over mls.webhooks."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors, webhooks
from .decorators import permission_required
from .enums import Permission
from .forms import WebhookEndpointForm
from .models import WebhookDelivery, WebhookEndpoint
from .views_support import confirm_page, form_page

PAGE_SIZE = 25


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


def _endpoint(pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.all(), pk=pk)


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET"])
def webhook_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return render(request, "mls/webhook_list.html", {"endpoints": selectors.webhook_endpoints()})


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET", "POST"])
def webhook_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return form_page(
        request,
        WebhookEndpointForm(request.POST or None),
        lambda data: webhooks.create_endpoint(organization=request.organization, actor=request.user, **data),
        title=_("Add a webhook endpoint"),
        cancel_url=_url(request, "org:webhooks"),
        saved=_("Endpoint added. Copy its secret into your receiver to check the signatures."),
        done_url=lambda endpoint: _url(request, "org:webhook", pk=endpoint.pk),
    )


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET"])
def webhook_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    page = Paginator(selectors.webhook_deliveries(endpoint), PAGE_SIZE).get_page(request.GET.get("page"))
    # `now` tells a delivery waiting for its next attempt from one that is due and being sent.
    context = {"endpoint": endpoint, "page": page, "now": timezone.now()}
    return render(request, "mls/webhook_detail.html", context)


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET", "POST"])
def webhook_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    initial = {name: getattr(endpoint, name) for name in WebhookEndpoint.audited_fields}
    detail_url = _url(request, "org:webhook", pk=endpoint.pk)
    return form_page(
        request,
        WebhookEndpointForm(request.POST or None, initial=initial),
        lambda data: webhooks.update_endpoint(endpoint=endpoint, actor=request.user, **data),
        title=_("Edit the endpoint %(url)s") % {"url": endpoint.url},
        cancel_url=detail_url,
        saved=_("Endpoint saved."),
    )


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET", "POST"])
def webhook_delete(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    return confirm_page(
        request,
        lambda: webhooks.delete_endpoint(endpoint=endpoint, actor=request.user),
        title=_("Delete the endpoint %(url)s?") % {"url": endpoint.url},
        body=_("It stops receiving events at once and its delivery log is deleted. The audit log keeps the change."),
        action=_("Delete endpoint"),
        cancel_url=_url(request, "org:webhook", pk=endpoint.pk),
        done=_("Endpoint %(url)s deleted.") % {"url": endpoint.url},
        done_url=_url(request, "org:webhooks"),
    )


@permission_required(Permission.MANAGE_WEBHOOKS)
@require_http_methods(["GET", "POST"])
def webhook_roll_secret(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    return confirm_page(
        request,
        lambda: webhooks.roll_secret(endpoint=endpoint, actor=request.user),
        title=_("Roll the secret of %(url)s?") % {"url": endpoint.url},
        body=_(
            "Deliveries from now on are signed with a new secret; your receiver rejects them until you give it "
            "the new one."
        ),
        action=_("Roll secret"),
        cancel_url=_url(request, "org:webhook", pk=endpoint.pk),
        done=_("New secret in place: update your receiver."),
    )


def _act_and_return(request: HttpRequest, act: Callable[[], object], done: str, endpoint_id: int) -> HttpResponse:
    """A one-button action of the endpoint page: its refusal (a paused endpoint) is shown there too."""
    try:
        act()
    except ValidationError as refusal:
        messages.error(request, refusal.messages[0])
    else:
        messages.success(request, done)
    return redirect(_url(request, "org:webhook", pk=endpoint_id))


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def webhook_ping(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    endpoint = _endpoint(pk)
    return _act_and_return(
        request,
        lambda: webhooks.send_ping(endpoint=endpoint, actor=request.user),
        _("Test ping sent; its result appears in the delivery log."),
        endpoint.pk,
    )


@require_POST
@permission_required(Permission.MANAGE_WEBHOOKS)
def webhook_redeliver(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint", "audit_event"), pk=pk)
    return _act_and_return(
        request,
        lambda: webhooks.redeliver(delivery=delivery, actor=request.user),
        _("%(event)s sent again as a new delivery.") % {"event": delivery.event},
        delivery.endpoint_id,
    )
