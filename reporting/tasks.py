"""Celery entry points of reporting: thin, they scope to a tenant and call a service.

The daily job fans out per organization, then per engagement with an SLA schedule. Generating is idempotent
(engagement row lock, unique revision) and rendering renders only a revision still generating, so `acks_late` is
safe: a task that runs again changes nothing that committed.
"""

from mls.celery import TenantTask, app, enqueue, for_each_organization


@app.task(name="reporting.tasks.dispatch_qbr_generation")
def dispatch_qbr_generation() -> int:
    """Daily (beat), after SLA finalization: the QBR of every quarter whose last month has just been finalized."""
    return for_each_organization(generate_organization_qbrs_task)


@app.task(name="reporting.tasks.generate_organization_qbrs_task", base=TenantTask)
def generate_organization_qbrs_task(*, organization_id: int) -> int:
    from slas.selectors import engagements_with_sla  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    engagement_ids = list(engagements_with_sla().values_list("pk", flat=True))
    for engagement_id in engagement_ids:
        enqueue(generate_engagement_qbrs_task, organization_id=organization_id, engagement_id=engagement_id)
    return len(engagement_ids)


@app.task(name="reporting.tasks.generate_engagement_qbrs_task", base=TenantTask, acks_late=True)
def generate_engagement_qbrs_task(*, organization_id: int, engagement_id: int) -> int:
    from engagements.models import Engagement  # noqa: PLC0415 - see above
    from reporting import services  # noqa: PLC0415 - see above

    return len(services.generate_due_qbrs(engagement=Engagement.objects.get(pk=engagement_id)))


@app.task(name="reporting.tasks.render_qbr_task", base=TenantTask, acks_late=True)
def render_qbr_task(*, organization_id: int, qbr_id: int) -> str:
    from reporting import services  # noqa: PLC0415 - see above
    from reporting.models import QuarterlyReview  # noqa: PLC0415 - see above

    review = QuarterlyReview.objects.filter(pk=qbr_id).first()
    return services.render_qbr(review=review).status if review else "missing"


@app.task(name="reporting.tasks.build_data_export_task", base=TenantTask)
def build_data_export_task(*, organization_id: int, export_id: int) -> str:
    from reporting import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)
    from reporting.models import DataExport  # noqa: PLC0415 - see above

    export = DataExport.objects.filter(pk=export_id).first()
    return services.build_portability_export(export).status if export else "missing"
