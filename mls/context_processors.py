"""Header data for every page: the organization switcher, the area navigation, and whether background work is
delayed."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise as StrPromise
from django.utils.translation import gettext_lazy as _

from .celery import broker_reachable
from .enums import Permission
from .models import Notification
from .selectors import organizations_of

# The areas of DESIGN.md §8 in menu order. An area whose pages are not built yet has no URL name and is shown
# as plain text, so the menu never links to a 404.
NAVIGATION: list[tuple[StrPromise, str | None, str | None]] = [
    (_("Dashboard"), "reporting:dashboard", None),
    (_("Engagements"), "engagements:list", None),
    (_("Delivery"), "scheduling:sessions", None),
    (_("Learners"), "scheduling:learners", None),
    (_("Compliance"), "scheduling:compliance", None),
    (_("SLAs"), "slas:list", None),
    (_("Credits & statements"), "reporting:statements", Permission.VIEW_COMMERCIALS),
    (_("QBRs"), "reporting:qbrs", Permission.VIEW_COMMERCIALS),
    (_("Disputes"), "engagements:disputes", None),
    (_("Exports"), "reporting:exports", None),
    (_("Audit log"), "org:audit_log", Permission.VIEW_AUDIT_LOG),
    (_("Settings"), "org:members", Permission.MANAGE_MEMBERS),
]


# Apps whose every page is in one area, wherever its URL sits: an engagement's SLA pages are under
# /engagements/<pk>/sla/ (they are about that engagement) but belong to SLAs, as do /measurements/<pk>/.
AREA_OF_APP = {"slas": "slas:list"}


def _is_in_area(path: str, url: str, home: str) -> bool:
    """An area is the first path segment of its URL below the organization's home: /o/acme/settings/ holds the
    members, API token and webhook pages of Settings (linked as /o/acme/settings/members/)."""
    if url == home:
        return path == home
    return path.startswith(home + url.removeprefix(home).split("/", 1)[0] + "/")


def navigation(request: HttpRequest) -> dict[str, object]:
    if not request.user.is_authenticated:
        return {}
    context: dict[str, object] = {"user_organizations": organizations_of(request.user)}
    membership = getattr(request, "membership", None)
    if membership is None:
        return context
    home = reverse("reporting:dashboard", kwargs={"organization_slug": request.organization.slug})
    match = request.resolver_match
    app_area = AREA_OF_APP.get(match.app_name) if match else None
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission and not membership.has_permission(permission):
            continue
        url = reverse(url_name, kwargs={"organization_slug": request.organization.slug}) if url_name else None
        if app_area is not None:
            current = url_name == app_area
        else:
            current = url is not None and _is_in_area(request.path, url, home)
        items.append({"label": label, "url": url, "current": current})
    context["nav_items"] = items
    context["unread_notifications"] = Notification.objects.filter(user=request.user, read_at__isnull=True).count()
    return context


def background_work(request: HttpRequest) -> dict[str, object]:
    """On tenant pages, whether to say that background work (imports, QBRs, exports, webhooks, reminders) waits for
    the broker. No query and, most of the time, no round trip: mls.celery.broker_reachable looks every 30 s."""
    if getattr(request, "membership", None) is None:
        return {}
    return {"background_work_delayed": not broker_reachable()}
