"""Every email MLS sends goes through here, so that user-typed text in a subject stays one header line and a
failing send never undoes, or answers 500 for, the work that caused it."""

from collections.abc import Iterable

from django.core.mail import send_mail
from django.db import transaction


def header_safe(text: str) -> str:
    """`text` as one header line. A course title or an organization name may hold CR/LF (or another line break);
    in a subject Django refuses them with BadHeaderError, and unchecked they would inject headers."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def send_email(*, subject: str, body: str, recipients: Iterable[str]) -> None:
    send_mail(subject=header_safe(subject), message=body, from_email=None, recipient_list=list(recipients))


def email_after_commit(*, subject: str, body: str, recipients: Iterable[str]) -> None:
    """Send once the transaction commits, to each address once. A failing send is logged, never raised: it must
    not turn a committed write into a 500, nor keep the hooks registered after it (the event's webhooks) from
    running."""
    recipients = sorted(set(recipients))
    if recipients:
        transaction.on_commit(lambda: send_email(subject=subject, body=body, recipients=recipients), robust=True)
