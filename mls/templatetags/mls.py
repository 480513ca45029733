from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def org_url(context: template.Context, name: str, **kwargs: object) -> str:
    """`{% org_url "org:members" %}`: reverse an organization page of the current request's organization."""
    return reverse(name, kwargs={"organization_slug": context["request"].organization.slug, **kwargs})
