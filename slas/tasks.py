"""Celery entry points of the SLA engine: thin, they scope to a tenant and call a service.

Beat fans out per organization, each organization per engagement, so one engagement's failure or lock wait
never holds up another's. Both engagement tasks are idempotent (a period row lock, finalized periods left
alone, unique constraints on every derived row), so `acks_late` is safe: a worker lost mid-task means the
task runs again and changes nothing that committed.
"""

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="slas.tasks.dispatch_sla_recompute")
def dispatch_sla_recompute() -> int:
    """Hourly (beat): refresh the provisional periods of every organization."""
    return for_each_organization(recompute_organization_slas_task)


@app.task(name="slas.tasks.dispatch_sla_finalization")
def dispatch_sla_finalization() -> int:
    """Daily (beat): finalize every period whose grace days are over, in every organization."""
    return for_each_organization(finalize_organization_slas_task)


@app.task(name="slas.tasks.recompute_organization_slas_task", base=TenantTask)
def recompute_organization_slas_task(*, organization_id: int) -> int:
    from slas.selectors import engagements_with_sla  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    engagement_ids = list(engagements_with_sla().values_list("pk", flat=True))
    for engagement_id in engagement_ids:
        recompute_engagement_slas_task.delay(organization_id=organization_id, engagement_id=engagement_id)
    return len(engagement_ids)


@app.task(name="slas.tasks.finalize_organization_slas_task", base=TenantTask)
def finalize_organization_slas_task(*, organization_id: int) -> int:
    from slas.selectors import engagements_with_sla  # noqa: PLC0415 - see above

    engagement_ids = list(engagements_with_sla().values_list("pk", flat=True))
    for engagement_id in engagement_ids:
        finalize_engagement_slas_task.delay(organization_id=organization_id, engagement_id=engagement_id)
    return len(engagement_ids)


@app.task(name="slas.tasks.recompute_engagement_slas_task", base=TenantTask, acks_late=True)
def recompute_engagement_slas_task(*, organization_id: int, engagement_id: int) -> int:
    from engagements.models import Engagement  # noqa: PLC0415 - see above
    from slas import services  # noqa: PLC0415 - see above

    return len(services.recompute_open_periods(engagement=Engagement.objects.get(pk=engagement_id)))


@app.task(name="slas.tasks.finalize_engagement_slas_task", base=TenantTask, acks_late=True)
def finalize_engagement_slas_task(*, organization_id: int, engagement_id: int) -> int:
    from engagements.models import Engagement  # noqa: PLC0415 - see above
    from slas import services  # noqa: PLC0415 - see above

    return len(services.finalize_due_periods(engagement=Engagement.objects.get(pk=engagement_id)))
