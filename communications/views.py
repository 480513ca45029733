"""Pages of learner communications: the message logs of a learner and a session, and the organization's settings
and wording (with a preview and a test send)."""

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mls.enums import Language, Permission
from mls.views_support import saved_redirect, write_then
from scheduling.models import Learner
from scheduling.selectors import sessions_for

from . import rendering, selectors, services
from .enums import LEARNER_KINDS, MessageKind
from .forms import CommunicationSettingsForm, LearnerPreferencesForm, MessageTemplateForm

PAGE_SIZE = 50


def _url(request: HttpRequest, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"organization_slug": request.organization.slug, **kwargs})


def _log_page(request: HttpRequest, messages: object, context: dict, status: int = 200) -> HttpResponse:
    page = Paginator(messages, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "communications/message_log.html", {"page": page, **context}, status=status)


def _learner_page(
    request: HttpRequest, learner: Learner, form: LearnerPreferencesForm | None = None, status: int = 200
) -> HttpResponse:
    if form is None and request.membership.has_permission(Permission.IMPORT_DATA):
        fields = ("language", "timezone", "optional_messages_opted_out")
        form = LearnerPreferencesForm(initial={name: getattr(learner, name) for name in fields})
    messages = selectors.messages_for_learner(learner, request.membership)
    return _log_page(request, messages, {"learner": learner, "preferences_form": form}, status=status)


@require_GET
def learner_messages(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    return _learner_page(request, get_object_or_404(Learner, pk=pk))


@require_POST
def learner_preferences(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    learner = get_object_or_404(Learner, pk=pk)
    if not request.membership.has_permission(Permission.IMPORT_DATA):
        raise PermissionDenied
    return write_then(
        LearnerPreferencesForm(request.POST),
        lambda valid: services.set_learner_preferences(
            membership=request.membership, learner=learner, **valid.cleaned_data
        ),
        lambda _saved: saved_redirect(
            request, _("Preferences saved."), _url(request, "communications:learner_messages", pk=learner.pk)
        ),
        lambda invalid: _learner_page(request, learner, invalid, status=400),
    )


@require_GET
def session_messages(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    session = get_object_or_404(sessions_for(request.membership), pk=pk)
    messages = selectors.messages_for_session(session, request.membership)
    return _log_page(request, messages, {"session": session})


@require_http_methods(["GET", "POST"])
def communication_settings(request: HttpRequest, organization_slug: str) -> HttpResponse:
    services.require_communications_manager(request.membership)
    options = selectors.communication_settings()
    initial = {
        "reminder_offsets": ", ".join(str(days) for days in options.reminder_offsets),
        "manager_copy_kinds": options.manager_copy_kinds,
    }
    form = CommunicationSettingsForm(request.POST if request.method == "POST" else None, initial=initial)

    def page(form: CommunicationSettingsForm, status: int = 200) -> HttpResponse:
        own = selectors.message_templates()
        rows = [
            (kind, [(value, label, (kind.value, value) in own) for value, label in Language.choices])
            for kind in LEARNER_KINDS
        ]
        return render(request, "communications/settings.html", {"form": form, "rows": rows}, status=status)

    if request.method == "GET":
        return page(form)
    return write_then(
        form,
        lambda valid: services.save_communication_settings(membership=request.membership, **valid.cleaned_data),
        lambda _saved: saved_redirect(
            request, _("Communication settings saved."), _url(request, "communications:settings")
        ),
        lambda invalid: page(invalid, status=400),
    )


@require_http_methods(["GET", "POST"])
def message_template(request: HttpRequest, organization_slug: str, kind: str, language: str) -> HttpResponse:
    """Edit one kind's wording in one language. The buttons: save, preview (nothing written), send me a test (to the
    member's own address), and back to the default."""
    services.require_communications_manager(request.membership)
    if kind not in LEARNER_KINDS or language not in Language.values:
        raise Http404
    own = selectors.message_template(kind, language)
    subject, body = (own.subject, own.body) if own else rendering.default_wording(kind, language)
    action = request.POST.get("action", "preview") if request.method == "POST" else "preview"
    form = MessageTemplateForm(
        request.POST if request.method == "POST" else None, initial={"subject": subject, "body": body}
    )
    here = _url(request, "communications:template", kind=kind, language=language)

    def page(form: MessageTemplateForm, preview: tuple[str, str] | None, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "kind": MessageKind(kind),
            "language": Language(language),
            "own": own,
            "preview": preview,
            "variables": rendering.VARIABLES,
        }
        return render(request, "communications/template.html", context, status=status)

    if request.method == "GET":
        return page(
            form,
            services.preview_message(
                organization_name=request.organization.name, language=language, subject=subject, body=body
            ),
        )
    if action == "reset":
        services.reset_message_template(membership=request.membership, kind=kind, language=language)
        return saved_redirect(request, _("Back to the default wording."), here)
    writes = {
        "save": lambda valid: services.save_message_template(
            membership=request.membership, kind=kind, language=language, **valid.cleaned_data
        ),
        "test": lambda valid: services.send_test_message(
            membership=request.membership, language=language, **valid.cleaned_data
        ),
        "preview": lambda valid: services.preview_message(
            organization_name=request.organization.name, language=language, **valid.cleaned_data
        ),
    }
    if action not in writes:
        action = "preview"
    said = {
        "save": _("Wording saved."),
        "test": _("A test message is on its way to %(email)s.") % {"email": request.user.email},
    }
    return write_then(
        form,
        writes[action],
        lambda written: page(form, written) if action == "preview" else saved_redirect(request, said[action], here),
        lambda invalid: page(invalid, None, status=400),
    )
