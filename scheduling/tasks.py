"""Celery entry points of the delivery domain: thin, they scope to a tenant and call a service."""

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="scheduling.tasks.dispatch_recertification_reminders")
def dispatch_recertification_reminders() -> int:
    """Daily (beat): one reminder run per organization, each in its own tenant scope."""
    return for_each_organization(send_recertification_reminders_task)


@app.task(name="scheduling.tasks.send_recertification_reminders_task", base=TenantTask)
def send_recertification_reminders_task(*, organization_id: int) -> int:
    from zoneinfo import ZoneInfo  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    from django.utils import timezone  # noqa: PLC0415 - see above

    from mls.models import Organization  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)
    from scheduling import services  # noqa: PLC0415 - see above

    organization = Organization.objects.get(pk=organization_id)
    return services.send_recertification_reminders(today=timezone.localdate(timezone=ZoneInfo(organization.timezone)))


@app.task(name="scheduling.tasks.run_import_task", base=TenantTask)
def run_import_task(*, organization_id: int, job_id: int) -> str:
    from scheduling import import_jobs  # noqa: PLC0415 - see above
    from scheduling.models import ImportJob  # noqa: PLC0415 - see above

    job = ImportJob.objects.filter(pk=job_id).first()
    return import_jobs.run(job).status if job else "missing"
