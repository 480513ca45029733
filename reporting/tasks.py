"""Celery entry points of the reporting domain: thin, they scope to a tenant and call a service."""

from mls.celery import TenantTask, app


@app.task(base=TenantTask)
def build_data_export_task(*, organization_id: int, export_id: int) -> str:
    from reporting import services  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)
    from reporting.models import DataExport  # noqa: PLC0415 - see above

    export = DataExport.objects.filter(pk=export_id).first()
    return services.build_portability_export(export).status if export else "missing"
