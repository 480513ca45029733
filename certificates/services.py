"""Writes of certificates: issuing one per completion (idempotent), revoking one, and the PDF.

Functions for other apps: `certificate_pdf(completion)` and `certificate_attachment(completion)` (the completion
email attaches it); `selectors.verification_url(certificate)` for a link.
"""

import base64
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from django.utils.translation import gettext as _

from mls.enums import Language, Permission
from mls.models import Membership, User
from reporting.pdf import Pdf, StaticFilesOnly, html_to_pdf
from scheduling.models import Completion
from scheduling.selectors import completions_for

from . import selectors
from .enums import Revocation
from .models import Certificate

TEMPLATE = "certificates/certificate.html"
PDF = "application/pdf"


class CertificateRevoked(ValidationError):
    """The completion's certificate was revoked by a member: no certificate is issued for it again."""


def _new_code() -> str:
    """120 random bits in base32: 24 capitals and digits, easy to read out or type from a print."""
    return base64.b32encode(secrets.token_bytes(15)).decode()


def _facts(completion: Completion) -> dict[str, object]:
    """What a certificate of `completion` prints, as of now (zone and language: the learner's)."""
    zone = selectors.learner_zone(completion)
    language = completion.learner.language if completion.learner.language in Language.values else Language.EN_GB
    return {
        "learner": completion.learner,
        "course": completion.course,
        "completed_at": completion.completed_at,
        "learner_name": completion.learner.name,
        "course_code": completion.course.code,
        "course_title": completion.course.title,
        "duration_hours": completion.course.duration_hours,
        "provider_name": selectors.provider_name(completion),
        "organization_name": completion.organization.name,
        "completed_on": timezone.localdate(completion.completed_at, ZoneInfo(zone)),
        "timezone": zone,
        "language": language,
    }


@transaction.atomic
def issue_certificate(completion: Completion, now: datetime, *, actor: User | None = None) -> Certificate:
    """The completion's certificate, issued on first use. Idempotent: the same certificate again while the
    completion is what it certified; once the completion changed (another learner, course or time, the learner's
    name corrected) the old certificate is superseded (revoked, detached) and a new one issued. A certificate
    revoked by a member stays: `CertificateRevoked`. The completion's row is locked, so two callers at once get
    one certificate."""
    locked = (
        Completion.objects.select_for_update(of=("self",))
        .select_related(*selectors.COMPLETION_RELATED)
        .get(pk=completion.pk)
    )
    current = Certificate.objects.filter(completion=locked).first()
    if current is not None:
        if current.revoked_at is not None:
            raise CertificateRevoked(_("The certificate of this completion was revoked."))
        if not selectors.is_superseded(current, locked):
            return current
        current.completion, current.revoked_at, current.revocation = None, now, Revocation.SUPERSEDED
        current.save()
        current.log_action("certificate.superseded", actor=actor)
    certificate = Certificate(organization=locked.organization, completion=locked, code=_new_code(), issued_at=now)
    for name, value in _facts(locked).items():
        setattr(certificate, name, value)
    certificate.full_clean()
    certificate.save()
    certificate.log_action("certificate.issued", actor=actor)
    return certificate


def check_revoke(membership: Membership, certificate: Certificate) -> None:
    """Who may revoke: whoever logs the completion's delivery (LOG_DELIVERY; a provider's account manager only
    for completions delivered under its engagements), while the certificate is not revoked yet."""
    if not membership.has_permission(Permission.LOG_DELIVERY):
        raise PermissionDenied
    if certificate.completion_id is None or certificate.revoked_at is not None:
        raise ValidationError(_("This certificate is already revoked."))
    if membership.is_provider_side and not completions_for(membership).filter(pk=certificate.completion_id).exists():
        raise PermissionDenied


@transaction.atomic
def revoke_certificate(*, certificate: Certificate, membership: Membership, note: str, now: datetime) -> Certificate:
    """Revoke a certificate (audited): its verification page says so from now on, and the completion gets no
    new certificate."""
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    check_revoke(membership, certificate)
    if not note.strip():
        raise ValidationError({"note": _("Say why the certificate is revoked.")})
    certificate.revoked_at, certificate.revocation, certificate.revocation_note = now, Revocation.REVOKED, note.strip()
    certificate.full_clean()
    certificate.save()
    certificate.log_action("certificate.revoked", actor=membership.user)
    return certificate


def certificate_html(certificate: Certificate) -> str:
    """The certificate's HTML in its language, with its verification URL printed and as a QR code."""
    url = selectors.verification_url(certificate)
    with translation.override(certificate.language):
        return render_to_string(
            TEMPLATE,
            {
                "certificate": certificate,
                "verification_url": url,
                "qr": mark_safe(selectors.qr_svg(url)),  # noqa: S308 - segno's SVG of modules, no text of ours
            },
        )


def render_certificate(certificate: Certificate, fetcher: StaticFilesOnly | None = None) -> Pdf:
    """The certificate as an A4 landscape PDF through reporting.pdf's fetcher (our static files only), rendered
    from the certificate's row: the facts its verification page shows."""
    return html_to_pdf(certificate_html(certificate), fetcher)


def certificate_pdf(completion: Completion, *, now: datetime | None = None, actor: User | None = None) -> bytes:
    """The completion's certificate PDF (issued first if it has none). Raises `CertificateRevoked`."""
    certificate = issue_certificate(completion, now or timezone.now(), actor=actor)
    return render_certificate(certificate).content


def certificate_filename(certificate: Certificate) -> str:
    return f"certificate-{slugify(certificate.course_code)}-{slugify(certificate.learner_name)}.pdf"


def certificate_attachment(
    completion: Completion, *, now: datetime | None = None, actor: User | None = None
) -> tuple[str, bytes, str]:
    """(filename, content, mimetype) for EmailMessage.attach(*...): the completion email's certificate, and the
    member's download. Raises `CertificateRevoked`."""
    certificate = issue_certificate(completion, now or timezone.now(), actor=actor)
    return certificate_filename(certificate), render_certificate(certificate).content, PDF
