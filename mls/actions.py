"""The vocabulary of `{% may %}`: the check each service makes before a write, registered by the service's app.

A template asks `{% may "relief.decide" engagement as may_decide %}` the very check `slas.services.decide_relief`
runs, so a button shows exactly when the write would be accepted. `mls` cannot import the apps built on it (the
code-health test forbids `mls` → `vendors`), so each app lists its checks in its own `actions.py` and imports it
from its `AppConfig.ready()`:

    # slas/actions.py
    register("relief.decide", services.check_decide_relief)

A check takes `(membership, obj)` and raises `ValidationError` or `PermissionDenied` when the service would
refuse. An action name that is neither a `Permission` nor registered raises `UnknownAction` (fail closed: a
typo in a template is an error, never a silently hidden or shown button).
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError

from mls.enums import Permission
from mls.models import Membership

Check = Callable[[Membership, object], object]  # raises ValidationError or PermissionDenied to refuse

_CHECKS: dict[str, Check] = {}


class UnknownAction(LookupError):
    """A `{% may %}` action no app registered and no `Permission` names."""


def register(action: str, check: Check) -> None:
    """Register the service's check for `action`; a second, different check for the same name is a mistake."""
    if action in Permission.values:
        raise ValueError(f"{action!r} is a permission name; an object check needs a name of its own.")
    if _CHECKS.get(action, check) is not check:
        raise ValueError(f"{action!r} is already registered to {_CHECKS[action]!r}.")
    _CHECKS[action] = check


def check_for(action: str) -> Check:
    """The registered check of `action`, or `UnknownAction`."""
    try:
        return _CHECKS[action]
    except KeyError:
        raise UnknownAction(f"No app registered the action {action!r}.") from None


def registered() -> frozenset[str]:
    """Every registered action name (for tests and docs)."""
    return frozenset(_CHECKS)


def may(membership: Membership | None, action: str, obj: object = None) -> bool:
    """May `membership` do `action` now: a Permission name alone, or a registered action on `obj`."""
    if action in Permission.values:
        return membership is not None and membership.has_permission(action)
    check = check_for(action)  # unknown names raise even for anonymous pages
    if membership is None:
        return False
    try:
        check(membership, obj)
    except (ValidationError, PermissionDenied):
        return False
    return True
