"""Reference data of delivery: venues with their rooms, and compliance requirements. Thin over services."""

from django.core.paginator import Paginator
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mls.decorators import permission_required
from mls.enums import Permission
from mls.sorting import Sorting, by
from mls.views_support import form_page

from . import selectors, services
from .forms import RequirementForm, RoomForm, VenueForm
from .models import ComplianceRequirement, Room, Venue
from .views import PAGE_SIZE


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


# --- Venues and rooms --------------------------------------------------------------------------


VENUE_COLUMNS = {"name": by("name"), "timezone": by("timezone"), "seats": by("seats")}


def venue_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    sorting = Sorting.from_request(request, VENUE_COLUMNS, default="name")
    context = {
        "page": Paginator(sorting.apply(selectors.venue_list()), PAGE_SIZE).get_page(request.GET.get("page")),
        "sorting": sorting,
    }
    return render(request, "scheduling/venue_list.html", context)


@permission_required(Permission.MANAGE_VENUES)
@require_http_methods(["GET", "POST"])
def venue_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    form = VenueForm(request.POST or None, initial={"timezone": request.organization.timezone})
    return form_page(
        request,
        form,
        lambda data: services.add_venue(organization=request.organization, membership=request.membership, **data),
        title=_("New venue"),
        cancel_url=_url(request, "scheduling:venues"),
        saved=_("Venue added; add its rooms."),
    )


@permission_required(Permission.MANAGE_VENUES)
@require_http_methods(["GET", "POST"])
def venue_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    venue = get_object_or_404(Venue, pk=pk)
    form = VenueForm(request.POST or None, initial=model_to_dict(venue))
    return form_page(
        request,
        form,
        lambda data: services.update_venue(venue=venue, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": venue.name},
        cancel_url=_url(request, "scheduling:venues"),
        saved=_("Venue saved."),
    )


@permission_required(Permission.MANAGE_VENUES)
@require_http_methods(["GET", "POST"])
def room_create(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    venue = get_object_or_404(Venue, pk=pk)
    return form_page(
        request,
        RoomForm(request.POST or None),
        lambda data: services.add_room(venue=venue, membership=request.membership, **data),
        title=_("New room at %(venue)s") % {"venue": venue.name},
        cancel_url=_url(request, "scheduling:venues"),
        saved=_("Room added to %(venue)s.") % {"venue": venue.name},
    )


@permission_required(Permission.MANAGE_VENUES)
@require_http_methods(["GET", "POST"])
def room_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    room = get_object_or_404(Room.objects.select_related("venue"), pk=pk)
    return form_page(
        request,
        RoomForm(request.POST or None, initial=model_to_dict(room)),
        lambda data: services.update_room(room=room, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": room},
        cancel_url=_url(request, "scheduling:venues"),
        saved=_("Room saved."),
    )


# --- Compliance requirements -------------------------------------------------------------------


def _requirement_form(request: HttpRequest, initial: dict | None = None) -> RequirementForm:
    units, regions = selectors.learner_audiences()
    return RequirementForm(request.POST or None, initial=initial, business_units=units, regions=regions)


@permission_required(Permission.MANAGE_COMPLIANCE)
@require_http_methods(["GET", "POST"])
def requirement_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return form_page(
        request,
        _requirement_form(request),
        lambda data: services.define_requirement(
            organization=request.organization, membership=request.membership, **data
        ),
        title=_("New mandatory training requirement"),
        cancel_url=_url(request, "scheduling:compliance"),
        saved=_("Requirement saved; now assign it to its audience with a due date."),
        done_url=lambda requirement: _url(request, "scheduling:compliance_report", pk=requirement.pk),
    )


@permission_required(Permission.MANAGE_COMPLIANCE)
@require_http_methods(["GET", "POST"])
def requirement_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    requirement = get_object_or_404(ComplianceRequirement, pk=pk)
    courses = [rc.course_id for rc in requirement.requirement_courses.all()]
    return form_page(
        request,
        _requirement_form(request, initial={**model_to_dict(requirement), "courses": courses}),
        lambda data: services.update_requirement(requirement=requirement, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": requirement.name},
        cancel_url=_url(request, "scheduling:compliance_report", pk=requirement.pk),
        saved=_("Requirement saved. Existing assignments keep their due dates."),
    )
