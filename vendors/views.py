"""Provider and supplier pages: the client's providers and their account managers, who the providers
sub-contract, how they perform on the client's delivery data, and the maintenance of providers, suppliers,
instructors and qualifications. Thin over selectors and services."""

from django.contrib import messages
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagements.models import Engagement
from mls.decorators import permission_required
from mls.enums import Permission
from mls.models import Provider
from mls.sorting import Sorting, by
from mls.views_support import confirm_page, form_page, write_or_rerender

from . import selectors, services
from .forms import (
    AccountManagerInvitationForm,
    InstructorForm,
    NewProviderForm,
    ProviderForm,
    QualificationForm,
    SupplierForm,
)
from .models import Instructor


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


# --- Providers ---------------------------------------------------------------------------------


PROVIDER_COLUMNS = {"name": by("name"), "engagements": by("engagement_count")}
# The suppliers' table above it is not sortable: `?sort=` is the instructors'.
INSTRUCTOR_COLUMNS = {"name": by("name"), "works_for": by("provider__name", "supplier__name")}


def provider_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    sorting = Sorting.from_request(request, PROVIDER_COLUMNS, default="name")
    context = {
        "sorting": sorting,
        "providers": sorting.apply(selectors.provider_list(request.membership)),
    }
    return render(request, "vendors/provider_list.html", context)


def _after_adding_provider(request: HttpRequest) -> str:
    """An organization setting up (no engagement yet) goes on to the new-engagement wizard, the next step."""
    if not Engagement.objects.exists() and request.membership.has_permission(Permission.MANAGE_CONTRACTS):
        return _url(request, "engagements:create")
    return _url(request, "vendors:providers")


@permission_required(Permission.MANAGE_PROVIDERS)
@require_http_methods(["GET", "POST"])
def provider_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    return form_page(
        request,
        NewProviderForm(request.POST or None),
        lambda data: services.add_provider(membership=request.membership, **data),
        title=_("New provider"),
        cancel_url=_url(request, "vendors:providers"),
        saved=_("Provider added. Invite its account manager if you have not, then create its engagement."),
        done_url=lambda provider: _after_adding_provider(request),
    )


def _provider(request: HttpRequest, pk: int) -> Provider:
    return get_object_or_404(selectors.providers_for(request.membership), pk=pk)


@permission_required(Permission.MANAGE_PROVIDERS)
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    provider = _provider(request, pk)
    return form_page(
        request,
        ProviderForm(request.POST or None, initial=model_to_dict(provider, fields=Provider.EDITABLE_FIELDS)),
        lambda data: services.update_provider(provider=provider, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": provider.name},
        cancel_url=_url(request, "vendors:providers"),
        saved=_("Provider saved."),
    )


@permission_required(Permission.MANAGE_PROVIDERS)
@require_http_methods(["GET", "POST"])
def provider_invite(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """Invite the provider's account manager: the members' invitation, with the role and provider fixed."""
    provider = _provider(request, pk)
    return form_page(
        request,
        AccountManagerInvitationForm(request.POST or None),
        lambda data: services.invite_account_manager(provider=provider, membership=request.membership, **data),
        title=_("Invite %(provider)s's account manager") % {"provider": provider.name},
        cancel_url=_url(request, "vendors:providers"),
        saved=_("Invitation sent."),
    )


# --- Suppliers ---------------------------------------------------------------------------------


def supplier_list(request: HttpRequest, organization_slug: str) -> HttpResponse:
    sorting = Sorting.from_request(request, INSTRUCTOR_COLUMNS, default="name")
    context = {
        "sorting": sorting,
        "suppliers": selectors.supplier_performance(request.membership),
        "instructors": sorting.apply(selectors.instructors_for(request.membership)),
        "today": timezone.localdate(),
    }
    return render(request, "vendors/supplier_list.html", context)


@permission_required(Permission.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def supplier_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    providers = selectors.providers_for(request.membership)
    initial = {"provider": request.membership.provider_id}
    return form_page(
        request,
        SupplierForm(request.POST or None, initial=initial, providers=providers),
        lambda data: services.add_supplier(membership=request.membership, **data),
        title=_("New supplier"),
        cancel_url=_url(request, "vendors:suppliers"),
        saved=_("Supplier added."),
    )


@permission_required(Permission.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def supplier_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    supplier = get_object_or_404(selectors.suppliers_for(request.membership).select_related("provider"), pk=pk)
    providers = selectors.providers_for(request.membership)
    return form_page(
        request,
        SupplierForm(request.POST or None, initial=model_to_dict(supplier), providers=providers),
        lambda data: services.update_supplier(supplier=supplier, membership=request.membership, **data),
        title=_("Edit %(name)s") % {"name": supplier.name},
        cancel_url=_url(request, "vendors:suppliers"),
        saved=_("Supplier saved."),
    )


# --- Instructors and qualifications ------------------------------------------------------------


@permission_required(Permission.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def instructor_create(request: HttpRequest, organization_slug: str) -> HttpResponse:
    providers = selectors.providers_for(request.membership)
    return form_page(
        request,
        InstructorForm(request.POST or None, initial={"provider": request.membership.provider_id}, providers=providers),
        lambda data: services.add_instructor(membership=request.membership, **data),
        title=_("New instructor"),
        cancel_url=_url(request, "vendors:suppliers"),
        saved=_("Instructor added; record their qualifications."),
        done_url=lambda instructor: _url(request, "vendors:instructor", pk=instructor.pk),
    )


def _instructor(request: HttpRequest, pk: int) -> Instructor:
    return get_object_or_404(selectors.instructors_for(request.membership), pk=pk)


def _instructor_page(
    request: HttpRequest,
    instructor: Instructor,
    form: InstructorForm | None = None,
    qualification_form: QualificationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    providers = selectors.providers_for(request.membership)
    context = {
        "instructor": instructor,
        "qualifications": instructor.qualifications.order_by("name"),
        "form": form or InstructorForm(initial=model_to_dict(instructor), providers=providers),
        "qualification_form": qualification_form or QualificationForm(),
        "today": timezone.localdate(),
    }
    return render(request, "vendors/instructor_detail.html", context, status=status)


@permission_required(Permission.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def instructor_detail(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    """The instructor's details (editable) and qualifications."""
    instructor = _instructor(request, pk)
    if request.method == "GET":
        return _instructor_page(request, instructor)

    def done() -> HttpResponse:
        messages.success(request, _("Instructor saved."))
        return redirect(_url(request, "vendors:instructor", pk=instructor.pk))

    return write_or_rerender(
        InstructorForm(request.POST, providers=selectors.providers_for(request.membership)),
        lambda valid: services.update_instructor(
            instructor=instructor, membership=request.membership, **valid.cleaned_data
        ),
        done,
        lambda invalid: _instructor_page(request, _instructor(request, pk), form=invalid, status=400),
    )


@require_POST
@permission_required(Permission.MANAGE_SUPPLIERS)
def qualification_add(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    instructor = _instructor(request, pk)

    def done() -> HttpResponse:
        messages.success(request, _("Qualification recorded."))
        return redirect(_url(request, "vendors:instructor", pk=instructor.pk))

    return write_or_rerender(
        QualificationForm(request.POST),
        lambda valid: services.add_qualification(
            instructor=instructor, membership=request.membership, **valid.cleaned_data
        ),
        done,
        lambda invalid: _instructor_page(request, instructor, qualification_form=invalid, status=400),
    )


@permission_required(Permission.MANAGE_SUPPLIERS)
@require_http_methods(["GET", "POST"])
def qualification_remove(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    qualification = get_object_or_404(selectors.qualifications_for(request.membership), pk=pk)
    instructor = qualification.instructor
    return confirm_page(
        request,
        lambda: services.remove_qualification(qualification=qualification, membership=request.membership),
        title=_("Remove %(qualification)s from %(instructor)s?")
        % {"qualification": qualification.name, "instructor": instructor.name},
        body=_("The qualification is deleted; the audit log keeps a record of it."),
        action=_("Remove qualification"),
        cancel_url=_url(request, "vendors:instructor", pk=instructor.pk),
        done=_("Removed %(qualification)s.") % {"qualification": qualification.name},
    )
