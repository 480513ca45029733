from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from engagements.enums import LineBasis
from mls import formatting
from mls.sorting import Sorting

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


@register.filter
def money(value: object, currency: str = "") -> str:
    """`{{ fee|money:engagement.currency }}` → "£2,160.00"."""
    return formatting.money(value, currency)


@register.filter
def amount(value: object) -> str:
    """`{{ line.amount|amount }}` → "2,160.00", for table cells under a header that names the currency."""
    return formatting.amount(value)


@register.filter
def rate(value: object, currency: str = "") -> str:
    """`{{ band.rate|rate:cur }}` → "£0.025": a unit price keeps its sub-cent digits."""
    return formatting.money(value, currency, rate=True)


@register.filter
def percent(value: object, places: int = 1) -> str:
    """`{{ compliance|percent }}` → "93.5 %"."""
    return formatting.percent(value, int(places))


@register.filter
def count(value: object) -> str:
    """`{{ learners|count }}` → "12,500"."""
    return formatting.count(value)


@register.filter
def metric_label(key: str) -> str:
    """`{{ credit.metric|metric_label }}` → the catalog name of the metric."""
    return formatting.metric_label(key)


@register.filter
def basis_label(basis: str) -> str:
    """`{{ line.basis|basis_label }}` → "Fixed monthly amount": a fee line's basis by its label."""
    return formatting.label(basis, LineBasis)


ARROWS = {"ascending": "▲", "descending": "▼", "none": ""}


@register.simple_tag
def sort_header(sorting: Sorting, key: str, label: str, css_class: str = "") -> SafeString:
    """`{% sort_header sorting "name" "Engagement" %}`: a column header that sorts the list by that column; the
    active column carries `aria-sort` and an arrow, and its link flips the direction."""
    state = sorting.aria_sort(key)
    hint = _("Sort descending") if state == "ascending" else _("Sort ascending")
    return format_html(
        '<th scope="col"{} aria-sort="{}"><a class="sort" href="{}" title="{}">{}'
        '<span class="sort__arrow" aria-hidden="true">{}</span></a></th>',
        format_html(' class="{}"', css_class) if css_class else "",
        state,
        sorting.url_for(key),
        hint,
        label,
        ARROWS[state],
    )
