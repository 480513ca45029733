"""Reads of certificates: the facts a completion's certificate prints, its verification URL and QR code, what the
public verification page shows, and which completions a member may fetch a certificate of."""

import re
from dataclasses import dataclass
from datetime import date, datetime

import segno
from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from mls.models import Membership, Provider
from mls.tenancy import organization_scope
from scheduling import calendars
from scheduling.models import Completion, Learner
from scheduling.selectors import completions_for

from .enums import Revocation, VerificationStatus
from .models import Certificate

# `<organization id>-<24 base32 characters>` (services._new_code); typed in lower case it is the same code.
PUBLIC_CODE = re.compile(r"^(?P<organization>[1-9][0-9]{0,17})-(?P<code>[A-Z2-7]{24})$")
# What issue_certificate and certificate_pdf read of a completion, in one query.
COMPLETION_RELATED = ("organization", "learner", "course", "session__engagement__provider", "session__room__venue")


def verification_url(certificate: Certificate) -> str:
    """The absolute URL of the certificate's public verification page (printed, and in the QR code)."""
    path = reverse("verification:certificate", kwargs={"code": certificate.public_code})
    return settings.SITE_URL.rstrip("/") + path


def qr_svg(url: str) -> str:
    """An inline SVG of the QR code of `url` (error correction M: a scuffed print still scans). Nothing of the
    URL's text is in the SVG, only the modules, so it is safe to put into HTML as is."""
    qr = segno.make_qr(url, error="m")
    return qr.svg_inline(dark="#101828", omitsize=True, svgclass="qr", lineclass="qr__modules")


def learner_zone(completion: Completion) -> str:
    """The zone a learner's dates are shown in (the one rule: scheduling.calendars.learner_zone); a self-paced
    completion (no session) falls back to the organization's."""
    return calendars.learner_zone(completion.learner, completion.session)


def provider_name(completion: Completion) -> str:
    """Who delivered it: the session's provider; for a self-paced completion the provider whose engagements deliver
    the course, when exactly one does (the rule of scheduling.selectors.delivered_under), else nobody is named."""
    if completion.session is not None:
        return completion.session.engagement.provider.name
    names = list(
        Provider.objects.filter(engagements__sessions__course=completion.course_id)
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()[:2]
    )
    return names[0] if len(names) == 1 else ""


def is_superseded(certificate: Certificate, completion: Completion) -> bool:
    """The completion no longer is what the certificate says: another learner or course, another time, or the
    learner's name corrected since (a certificate naming the wrong person must not stay valid)."""
    return (
        certificate.learner_id != completion.learner_id
        or certificate.course_id != completion.course_id
        or certificate.completed_at != completion.completed_at
        or certificate.learner_name != completion.learner.name
    )


def revocation_of(certificate: Certificate) -> str:
    """Why the certificate is revoked (a `Revocation`), or "" while it is valid. A completion deleted or changed
    since issue revokes it at once, before anyone issues its successor."""
    if certificate.revoked_at is not None:
        return certificate.revocation
    if certificate.completion is None:
        return Revocation.WITHDRAWN
    if is_superseded(certificate, certificate.completion):
        return Revocation.SUPERSEDED
    return ""


@dataclass(frozen=True)
class Verification:
    """All the public verification page may show: the completion's facts as certified, and whether it stands."""

    serial: str
    learner_name: str
    course_code: str
    course_title: str
    completed_on: date
    organization_name: str
    provider_name: str
    language: str
    status: str
    revocation: str
    revoked_at: datetime | None

    @property
    def valid(self) -> bool:
        return self.status == VerificationStatus.VALID

    def get_revocation_display(self) -> str:
        return Revocation(self.revocation).label if self.revocation else ""


def verification(public_code: str) -> Verification | None:
    """The facts behind a printed code, read inside the scope of the organization the code names and no other;
    None for a malformed code, an unknown organization or a secret that organization never issued."""
    match = PUBLIC_CODE.match(public_code.upper())
    if match is None:
        return None
    with organization_scope(int(match["organization"])):
        certificate = Certificate.objects.select_related("completion__learner").filter(code=match["code"]).first()
        if certificate is None:
            return None
        revocation = revocation_of(certificate)
    return Verification(
        serial=certificate.public_code,
        learner_name=certificate.learner_name,
        course_code=certificate.course_code,
        course_title=certificate.course_title,
        completed_on=certificate.completed_on,
        organization_name=certificate.organization_name,
        provider_name=certificate.provider_name,
        language=certificate.language,
        status=VerificationStatus.REVOKED if revocation else VerificationStatus.VALID,
        revocation=revocation,
        revoked_at=certificate.revoked_at,
    )


def visible_completions(membership: Membership) -> QuerySet[Completion]:
    """The completions a member may fetch the certificate of: those they may read (scheduling's rule)."""
    return completions_for(membership).select_related(*COMPLETION_RELATED)


def learner_completions(membership: Membership, learner: Learner) -> list[Completion]:
    """A learner's completions the member may read, newest first, each with its certificate if one was issued."""
    return list(
        completions_for(membership)
        .filter(learner=learner)
        .select_related("course", "learner", "certificate")
        .order_by("-completed_at", "-pk")
    )


def certificate_of(completion: Completion) -> Certificate | None:
    """The completion's certificate, or None before one is issued (one-to-one: the reverse accessor raises)."""
    try:
        return completion.certificate
    except Certificate.DoesNotExist:
        return None
