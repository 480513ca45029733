"""Celery entry points of the tenancy core: thin, they load inside the tenant scope and call a service."""

from mls.celery import TenantTask, app, for_each_organization


@app.task(base=TenantTask)
def send_invitation_email_task(*, organization_id: int, invitation_id: int) -> None:
    from mls import services  # noqa: PLC0415 - services import this module (layer 0)
    from mls.models import Invitation  # noqa: PLC0415 - see above

    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is not None:
        services.send_invitation_email(invitation)


@app.task
def dispatch_idempotency_purge() -> int:
    """Daily (beat): forget the API's idempotency keys older than 24 hours, organization by organization."""
    return for_each_organization(purge_idempotency_keys_task)


@app.task(base=TenantTask)
def purge_idempotency_keys_task(*, organization_id: int) -> int:
    from mls import idempotency  # noqa: PLC0415 - see above

    return idempotency.purge_expired()
