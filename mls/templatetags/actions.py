"""Which write buttons a page shows: the template asks the check the service itself makes before writing
(the vocabulary lives in `mls.actions`, where each app registers its own checks)."""

from django import template

from mls.actions import may

register = template.Library()

__all__ = ["may", "register"]  # `may` for views and tests that ask outside a template

# Confirmation pages: an action that cannot be undone, or takes something away, is styled as danger. The label is
# translated, so its verb is looked up in each language MLS speaks: English puts it first ("Revoke token"), German
# last ("Token widerrufen").
DESTRUCTIVE_VERBS = frozenset(
    {"withdraw", "reject", "cancel", "remove", "revoke", "delete", "deactivate", "roll"}
    | {"zurückziehen", "ablehnen", "absagen", "stornieren", "entfernen", "widerrufen", "löschen", "deaktivieren"}
    | {"erneuern"}
)


@register.simple_tag(takes_context=True, name="may")
def may_tag(context: template.Context, action: str, obj: object = None) -> bool:
    """`{% may "change_request.approve" change_request as may_approve %}` for the request's member."""
    return may(getattr(context["request"], "membership", None), action, obj)


@register.filter
def button_class(action: str) -> str:
    """The button classes for a confirmed action's label: `Withdraw` → danger, `Approve` → primary."""
    words = str(action).lower().split()
    verbs = {words[0], words[-1]} if words else set()
    return "button button--danger" if verbs & DESTRUCTIVE_VERBS else "button"
