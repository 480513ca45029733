"""Celery entry points of the post-session surveys: thin, they scope to a tenant and call a service."""

from mls.celery import TenantTask, app, for_each_organization


@app.task(name="surveys.tasks.dispatch_survey_invitations")
def dispatch_survey_invitations() -> int:
    """Daily (beat): one sweep per organization, each in its own tenant scope."""
    return for_each_organization(invite_delivered_sessions_task)


@app.task(name="surveys.tasks.invite_delivered_sessions_task", base=TenantTask)
def invite_delivered_sessions_task(*, organization_id: int) -> int:
    from django.utils import timezone  # noqa: PLC0415 - tasks are a leaf layer (STYLE.md)

    from surveys import services  # noqa: PLC0415 - see above

    return services.invite_delivered_sessions(timezone.now())


@app.task(name="surveys.tasks.invite_session_learners_task", base=TenantTask)
def invite_session_learners_task(*, organization_id: int, session_id: int) -> int:
    """A session was delivered (or its attendance corrected since): ask its present learners. The ledger makes a
    repeated message harmless, and the daily sweep finds a lost one."""
    from django.utils import timezone  # noqa: PLC0415 - see above

    from scheduling.models import Session  # noqa: PLC0415 - see above
    from surveys import services  # noqa: PLC0415 - see above

    session = Session.objects.filter(pk=session_id).first()
    return services.invite_present_learners(session, timezone.now()) if session else 0
