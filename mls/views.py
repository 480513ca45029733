"""HTML views of the tenancy core: thin; forms validate, services write, selectors read."""

import secrets

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from . import selectors, services
from .adapters import PENDING_INVITATION_SESSION_KEY
from .decorators import permission_required
from .enums import Credential, Permission
from .forms import (
    ApiTokenForm,
    InvitationForm,
    MemberRoleForm,
    OrganizationForm,
    OrganizationSettingsForm,
    apply_service_error,
)
from .models import ApiToken, Invitation, InvitationStatus, Notification, Organization
from .tenancy import organization_scope
from .views_support import confirm_page, saved_redirect, write_or_rerender, write_then

PAGE_SIZE = 50  # audit log and notifications: long, scanned lists


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("account_login")
    organization = selectors.organizations_of(request.user).first()
    if organization is None:
        return redirect("organization_create")
    return redirect(organization)


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    return render(request, "mls/organization_list.html", {"organizations": selectors.organizations_of(request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request: HttpRequest) -> HttpResponse:
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organization = services.create_organization(owner=request.user, **form.cleaned_data)
        messages.success(
            request,
            _("%(organization)s is ready. Invite your colleagues from Settings → Members.")
            % {"organization": organization.name},
        )
        return redirect(organization)
    return render(request, "mls/organization_form.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    """Outside `/o/`: the invitee is not a member yet. The signed token names the tenant to scope into."""
    ids = services.read_invitation_token(token)
    if ids is None:
        raise Http404(_("Unknown invitation."))
    organization_id, invitation_id = ids
    with organization_scope(organization_id):
        invitation = Invitation.objects.select_related("organization", "provider").filter(pk=invitation_id).first()
        if invitation is None:
            raise Http404(_("Unknown invitation."))
        context = {"invitation": invitation, "organization": invitation.organization}
        if invitation.status != InvitationStatus.PENDING:
            return render(request, "mls/invitation_accept.html", context, status=410)
        if not request.user.is_authenticated:
            # Following the emailed link proves the address: sign-up with it needs no extra verification.
            get_adapter(request).stash_verified_email(request, invitation.email)
            request.session[PENDING_INVITATION_SESSION_KEY] = token
            context["next"] = request.path
            return render(request, "mls/invitation_accept.html", context)
        if request.method == "POST":
            try:
                services.accept_invitation(invitation=invitation, user=request.user)
            except ValidationError as error:
                context["error"] = error.messages[0]
                return render(request, "mls/invitation_accept.html", context, status=400)
            messages.success(
                request, _("Welcome to %(organization)s.") % {"organization": invitation.organization.name}
            )
            return redirect(invitation.organization)
        if request.user.email.lower() != invitation.email:
            context["error"] = _("This invitation was sent to %(invited)s; you are signed in as %(user)s.") % {
                "invited": invitation.email,
                "user": request.user.email,
            }
        return render(request, "mls/invitation_accept.html", context)


@permission_required(Permission.MANAGE_ORGANIZATION)
@require_http_methods(["GET", "POST"])
def organization_settings(request: HttpRequest, organization_slug: str) -> HttpResponse:
    # The form validates a copy, so a refused input never shows in this request's header (request.organization).
    form = OrganizationSettingsForm(request.POST or None, instance=Organization.objects.get(pk=request.organization.pk))
    settings_url = reverse("org:settings", kwargs={"organization_slug": organization_slug})

    def write(valid: OrganizationSettingsForm) -> None:
        services.update_organization_settings(
            organization=request.organization, actor=request.user, **valid.cleaned_data
        )

    def page(status: int = 200) -> HttpResponse:
        return render(request, "mls/organization_settings.html", {"form": form}, status=status)

    if request.method != "POST":
        return page()
    return write_or_rerender(
        form, write, lambda: saved_redirect(request, _("Settings saved."), settings_url), lambda invalid: page(400)
    )


@permission_required(Permission.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def members(request: HttpRequest, organization_slug: str) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(
                organization=request.organization, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
            return redirect("org:members", organization_slug=organization_slug)
    context = {"form": form, "members": selectors.members(), "invitations": selectors.open_invitations()}
    return render(request, "mls/members.html", context, status=400 if form.errors else 200)


@permission_required(Permission.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    membership = get_object_or_404(selectors.members(), pk=pk)
    form = MemberRoleForm(request.POST or None, initial={"role": membership.role, "provider": membership.provider})
    if request.method == "POST" and form.is_valid():
        try:
            services.change_member_role(membership=membership, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": membership.user.email, "role": membership.get_role_display()},
            )
            return redirect("org:members", organization_slug=organization_slug)
    context = {"form": form, "membership": membership}
    return render(request, "mls/member_edit.html", context, status=400 if form.errors else 200)


@permission_required(Permission.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def member_remove(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    membership = get_object_or_404(selectors.members(), pk=pk)
    members_url = reverse("org:members", kwargs={"organization_slug": organization_slug})
    return confirm_page(
        request,
        lambda: services.remove_member(membership=membership, actor=request.user),
        title=_("Remove %(email)s?") % {"email": membership.user.email},
        body=_("They lose access to %(organization)s at once. Their past actions stay in the audit log.")
        % {"organization": request.organization.name},
        action=_("Remove member"),
        cancel_url=members_url,
        done=_("%(email)s was removed.") % {"email": membership.user.email},
        done_url=reverse("home") if membership.user == request.user else members_url,
    )


@permission_required(Permission.MANAGE_MEMBERS)
@require_http_methods(["GET", "POST"])
def invitation_revoke(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    invitation = get_object_or_404(selectors.open_invitations(), pk=pk)
    return confirm_page(
        request,
        lambda: services.revoke_invitation(invitation=invitation, actor=request.user),
        title=_("Revoke the invitation to %(email)s?") % {"email": invitation.email},
        body=_("The emailed link stops working. You can invite the address again later."),
        action=_("Revoke invitation"),
        cancel_url=reverse("org:members", kwargs={"organization_slug": organization_slug}),
        done=_("Invitation to %(email)s revoked.") % {"email": invitation.email},
    )


@permission_required(Permission.VIEW_AUDIT_LOG)
def audit_log(request: HttpRequest, organization_slug: str) -> HttpResponse:
    action = request.GET.get("action", "").strip()
    object_type = request.GET.get("object_type", "").strip()
    credential = request.GET.get("credential", "")
    credential = credential if credential in Credential.values else ""
    events = selectors.audit_events(action=action, object_type=object_type, credential=credential)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "action": action,
        "object_type": object_type,
        "object_types": selectors.audit_object_types(),
        "credential": credential,
        "credentials": Credential.choices,
    }
    return render(request, "mls/audit_log.html", context)


@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """The member's own inbox in this organization; POST marks everything read."""
    if request.method == "POST":
        count = services.mark_notifications_read(user=request.user)
        messages.success(
            request,
            ngettext("Marked %(count)s notification as read.", "Marked %(count)s notifications as read.", count)
            % {"count": count},
        )
        return redirect("org:notifications", organization_slug=organization_slug)
    inbox = Notification.objects.filter(user=request.user)
    page = Paginator(inbox, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "mls/notifications.html", {"page": page})


# --- API tokens ---------------------------------------------------------------------------------


# The raw token is shown only on the page that answers the POST (it is never stored), so reloading that page sends
# the form again: each form shown carries a one-time key, and a key already spent creates nothing.
FORM_KEYS_SESSION = "mls.api_token_form_keys"
FORM_KEYS_KEPT = 10  # forms open at once, in several tabs


def _token_form_key(request: HttpRequest) -> str:
    key = secrets.token_urlsafe(16)
    kept = request.session.get(FORM_KEYS_SESSION, [])[-(FORM_KEYS_KEPT - 1) :]
    request.session[FORM_KEYS_SESSION] = [*kept, key]
    return key


def _spend_token_form_key(request: HttpRequest) -> None:
    keys = request.session.get(FORM_KEYS_SESSION, [])
    key = request.POST.get("form_key", "")
    if key not in keys:
        raise ValidationError(
            _(
                "This form was already sent (was the page reloaded?) or has expired: no token was created now. A token "
                "it created before is in the list, shown once: revoke it if you did not copy it. Send the form again "
                "for a new token."
            )
        )
    request.session[FORM_KEYS_SESSION] = [other for other in keys if other != key]


@permission_required(Permission.MANAGE_API_TOKENS)
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest, organization_slug: str) -> HttpResponse:
    """The tokens and a form for a new one; a created token is shown once, on the page the POST answers."""
    form = ApiTokenForm(request.POST or None)

    def page(status: int = 200, **created: object) -> HttpResponse:
        context = {"form": form, "form_key": _token_form_key(request), "tokens": selectors.api_tokens(), **created}
        return render(request, "mls/api_tokens.html", context, status=status)

    def create(valid: ApiTokenForm) -> tuple[ApiToken, str]:
        _spend_token_form_key(request)
        return services.create_api_token(membership=request.membership, **valid.cleaned_data)

    if request.method != "POST":
        return page()
    return write_then(
        form, create, lambda created: page(201, token=created[0], raw_token=created[1]), lambda invalid: page(400)
    )


@permission_required(Permission.MANAGE_API_TOKENS)
@require_http_methods(["GET", "POST"])
def api_token_revoke(request: HttpRequest, organization_slug: str, pk: int) -> HttpResponse:
    token = get_object_or_404(selectors.api_tokens().filter(revoked_at__isnull=True), pk=pk)
    return confirm_page(
        request,
        lambda: services.revoke_api_token(token=token, membership=request.membership),
        title=_("Revoke the token %(name)s?") % {"name": token.name},
        body=_("Integrations using %(prefix)s… are refused (401) from their next request. This cannot be undone.")
        % {"prefix": token.prefix},
        action=_("Revoke token"),
        cancel_url=reverse("org:api_tokens", kwargs={"organization_slug": organization_slug}),
        done=_("The token %(name)s was revoked.") % {"name": token.name},
    )
