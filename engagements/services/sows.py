"""SoWs and their versions: the draft's scope matrix and priced service lines, and signing it."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from engagements import pricing
from engagements.enums import PRICING_MODEL_BASES, ChangeRequestStatus, LineBasis, VersionStatus
from engagements.models import Engagement, ScopeItem, ServiceLine, Sow, SowVersion, VolumeBand
from mls.audit import save_audited
from mls.models import User


@transaction.atomic
def create_sow(
    *, engagement: Engagement, actor: User, reference: str, title: str, effective_from: date, pricing_model: str
) -> Sow:
    """A new SoW with an empty draft v1 to fill in (scope matrix, service lines) and sign."""
    if engagement.sows.filter(reference=reference).exists():
        message = _("%(engagement)s already has a SoW %(reference)s.")
        raise ValidationError({"reference": message % {"engagement": engagement, "reference": reference}})
    sow = Sow(organization=engagement.organization, engagement=engagement, reference=reference, title=title)
    save_audited(sow, actor=actor, action="sow.created", changes={})
    version = SowVersion(
        organization=sow.organization, sow=sow, number=1, effective_from=effective_from, pricing_model=pricing_model
    )
    save_audited(version, actor=actor, action="sow_version.created", changes={})
    return sow


def _require_draft(version: SowVersion) -> None:
    # Lock and re-read: the caller's object may predate a signature or a submission.
    version.status = SowVersion.objects.select_for_update().values_list("status", flat=True).get(pk=version.pk)
    if not version.is_editable:
        message = _("%(version)s is %(status)s: it cannot be edited. Propose a change request.")
        raise ValidationError(message % {"version": version, "status": version.get_status_display().lower()})
    change_request = version.change_requests.first()
    if change_request is not None and change_request.status != ChangeRequestStatus.DRAFT:
        # The other side approves exactly what it saw: a submitted proposal is frozen.
        message = _("%(change_request)s is %(status)s; its proposal can no longer change.")
        raise ValidationError(
            message % {"change_request": change_request, "status": change_request.get_status_display().lower()}
        )


@transaction.atomic
def update_sow(*, sow: Sow, actor: User, title: str) -> Sow:
    """A SoW's own name; its terms change only through versions and change requests."""
    return save_audited(sow, actor=actor, action="sow.updated", changes={"title": title})


@transaction.atomic
def update_draft_version(*, version: SowVersion, actor: User, **fields: Any) -> SowVersion:
    _require_draft(version)
    return save_audited(version, actor=actor, action="sow_version.updated", changes=fields)


@transaction.atomic
def set_scope_item(
    *, version: SowVersion, actor: User, service: str, responsibility: str, custom_name: str = "", notes: str = ""
) -> ScopeItem:
    """Add or change one scope-matrix row of a draft version (one row per service)."""
    _require_draft(version)
    item = ScopeItem.objects.filter(version=version, service=service, custom_name=custom_name).first()
    item = item or ScopeItem(organization=version.organization, version=version, service=service)
    changes = {"custom_name": custom_name, "responsibility": responsibility, "notes": notes}
    return save_audited(item, actor=actor, action="scope_item.saved", changes=changes)


@transaction.atomic
def remove_scope_item(*, item: ScopeItem, actor: User) -> None:
    _require_draft(item.version)
    item.log_action("scope_item.removed", actor=actor, deleted=True)
    item.delete()


@transaction.atomic
def add_service_line(
    *, version: SowVersion, actor: User, bands: list[tuple[int | None, Decimal]] = (), **fields: Any
) -> ServiceLine:
    """Add a priced line to a draft version; per-learner lines need graduated bands (validated)."""
    _require_draft(version)
    line = ServiceLine(organization=version.organization, version=version, **fields)
    line.full_clean()
    if line.basis == LineBasis.PER_LEARNER:
        try:
            pricing.validate_bands(tuple(pricing.Band(up_to, rate) for up_to, rate in bands))
        except ValueError as error:
            raise ValidationError({"bands": str(error)}) from error
    elif bands:
        raise ValidationError({"bands": _("Only per-learner lines have volume bands.")})
    line.save()
    for up_to, rate in bands:
        VolumeBand.objects.create(organization=line.organization, line=line, up_to=up_to, rate=rate)
    line.log_action("service_line.added", actor=actor)
    return line


@transaction.atomic
def remove_service_line(*, line: ServiceLine, actor: User) -> None:
    _require_draft(line.version)
    line.log_action("service_line.removed", actor=actor, deleted=True)
    line.delete()


def signing_problems(version: SowVersion) -> list[str]:
    """Why `version` cannot be signed yet (empty when it can)."""
    problems = []
    if not version.scope_items.exists():
        problems.append(_("The scope matrix is empty: say which services are included, excluded or client-retained."))
    bases = set(version.service_lines.values_list("basis", flat=True))
    expected = PRICING_MODEL_BASES[version.pricing_model]
    if not bases:
        problems.append(_("There are no service lines: pricing must be itemized."))
    elif bases != expected:
        names = ", ".join(sorted(LineBasis(b).label.lower() for b in expected))
        message = _("A %(pricing_model)s SoW is priced with: %(bases)s.")
        problems.append(message % {"pricing_model": version.get_pricing_model_display().lower(), "bases": names})
    if version.pricing_model == "hybrid" and not version.service_lines.filter(included_learners__gt=0).exists():
        problems.append(_("A hybrid SoW's per-learner line must say how many learners the retainer includes."))
    return problems


@transaction.atomic
def sign_version(*, version: SowVersion, actor: User, now: datetime | None = None) -> SowVersion:
    """Sign the first version of a SoW. Later versions are signed by approving their change request."""
    now = now or timezone.now()
    version = SowVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    if version.change_requests.exists():
        raise ValidationError(_("This version belongs to a change request: it is signed when both sides approve it."))
    if SowVersion.objects.filter(sow=version.sow_id, status=VersionStatus.SIGNED).exists():
        raise ValidationError(_("This SoW already has a signed version; amend it with a change request."))
    return _sign(version, actor, now)


def _sign(version: SowVersion, actor: User, now: datetime) -> SowVersion:
    problems = signing_problems(version)
    if problems:
        raise ValidationError(problems)
    version.status, version.signed_at, version.signed_by = VersionStatus.SIGNED, now, actor
    # Bypass the immutability guard only for this transition: the row is still a draft in the database.
    version.save(update_fields=["status", "signed_at", "signed_by"])
    version.log_action("sow_version.signed", actor=actor)
    return version
