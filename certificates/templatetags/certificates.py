"""The learner page's completions with their certificates (the page includes templates/certificates/
_learner_completions.html, which asks this tag: scheduling's view does not know about certificates)."""

from django import template

from certificates import selectors
from certificates.models import Certificate
from scheduling.models import Completion, Learner

register = template.Library()


@register.simple_tag(takes_context=True)
def learner_certificates(
    context: template.Context, learner: Learner
) -> list[tuple[Completion, Certificate | None, str]]:
    """(completion, its certificate or None, why it is revoked or "") for the completions the member may read."""
    rows = []
    for completion in selectors.learner_completions(context["request"].membership, learner):
        certificate = selectors.certificate_of(completion)
        rows.append((completion, certificate, selectors.revocation_of(certificate) if certificate else ""))
    return rows
