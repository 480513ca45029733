"""Celery entry points of the tenancy core: thin, they load inside the tenant scope and call a service."""

from mls.celery import TenantTask, app


@app.task(base=TenantTask)
def send_invitation_email_task(*, organization_id: int, invitation_id: int) -> None:
    from mls import services  # noqa: PLC0415 - services import this module (layer 0)
    from mls.models import Invitation  # noqa: PLC0415 - see above

    invitation = Invitation.objects.select_related("organization").filter(pk=invitation_id).first()
    if invitation is not None:
        services.send_invitation_email(invitation)
