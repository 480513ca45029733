from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context: template.Context, name: str, **kwargs: object) -> str:
    """`{% org_url "org:members" %}`: reverse an organization page of the current request's organization."""
    return reverse(name, kwargs={"organization_slug": context["request"].organization.slug, **kwargs})


ACRONYMS = {"sow": "SoW", "sla": "SLA", "qbr": "QBR", "api": "API", "cr": "CR"}


@register.filter
def action_label(action: str) -> str:
    """An audit action as a phrase for people: `escalation.created` → "Escalation created",
    `sow_version.signed` → "SoW version signed"."""
    words = action.replace(".", " ").replace("_", " ").split()
    phrase = " ".join(ACRONYMS.get(word, word) for word in words)
    return phrase[:1].upper() + phrase[1:]
