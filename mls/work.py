"""Work that waits is a row (STYLE.md): data exports, imports, QBR renders and invitation emails.

The row, not the broker message, is the truth. A message only says "look now"; it may be lost (the broker was
down when the request committed) or delivered twice (a redelivery, or a sweep that re-sent it).

- A worker **claims** its row in a short transaction of its own: `SELECT … FOR UPDATE SKIP LOCKED` on a row that
  is waiting (queued, or claimed by a worker whose lease ran out), then status running, `locked_until = now +
  LEASE`, `attempts + 1`, committed. A second message for the same row finds it claimed or finished and does
  nothing.
- The worker then **holds** the row's lock for as long as it works: the work and its result commit in one
  transaction (an import is all or nothing, an export reads one snapshot), so a live worker is never taken over,
  however long it runs, because claims and sweeps skip locked rows. That row lock is the heartbeat: PostgreSQL
  drops it the moment the worker's session ends (SIGKILL, lost machine), and the lease (which cannot be renewed
  from outside that transaction) only bounds how long a dead worker's claim looks alive.
- A **sweep** (beat, every minute, per organization) re-sends rows queued for longer than QUEUED_GRACE and puts
  rows whose worker died back in the queue; after MAX_ATTEMPTS claims it gives up, and the row says why.
"""

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction

from .models import Lease

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
QUEUED_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 3

Work = models.Model  # a model with a `lease` (mls.models.Lease), e.g. LeasedWork's


def _lease(model: type[Work]) -> Lease:
    return model.lease


def _locking(model: type[Work], *, skip_locked: bool = False) -> models.QuerySet:
    """Rows of `model` locked FOR UPDATE, and only those: unordered, since a default ordering through a foreign key
    (a QBR's engagement) would join, and lock, the engagement too (and SKIP LOCKED would skip a row whose
    engagement someone else holds); unordered, the sweep's query is served by the partial index of waiting rows."""
    return model.objects.select_for_update(skip_locked=skip_locked, of=("self",)).order_by()


def locking(model: type[Work], *, skip_locked: bool = False) -> models.QuerySet:
    """Rows of `model` locked FOR UPDATE (and only those) in the caller's transaction, e.g. the other rows of a batch
    that one worker runs together."""
    return _locking(model, skip_locked=skip_locked)


def claim(model: type[Work], pk: int, *, now: datetime) -> Work | None:
    """Claim row `pk` for this worker (committed), or None when it is not waiting (finished, or another worker's)."""
    lease = _lease(model)
    with transaction.atomic():
        row = _locking(model, skip_locked=True).filter(lease.claimable(now), pk=pk).first()
        if row is None:
            return None
        setattr(row, lease.field("status"), lease.running)
        setattr(row, lease.field("locked_until"), now + LEASE)
        setattr(row, lease.field("attempts"), getattr(row, lease.field("attempts")) + 1)
        row.save(update_fields=[lease.field(name) for name in ("status", "locked_until", "attempts")])
    return row


def hold(row: Work) -> Work | None:
    """Lock the claimed `row` for the rest of the caller's transaction and reload it; None when the claim is no
    longer this worker's (its lease ran out and another worker claimed the row since)."""
    lease = _lease(type(row))
    claimed = {lease.field("status"): lease.running, lease.field("attempts"): getattr(row, lease.field("attempts"))}
    return _locking(type(row)).filter(pk=row.pk, **claimed).first()


def run(
    claimed: Work,
    do: Callable[[Work], None],
    *,
    give_up: Callable[[Work, str], None],
    what: str,
    within: Callable[[], AbstractContextManager] = transaction.atomic,
) -> None:
    """`do(row)` on the claimed row while holding its lock, in one transaction (`within`) with its result. A bug
    ends the row visibly (`give_up(row, error)`, nothing of the work kept) instead of leaving it running until
    the sweep; a row whose lease ran out and that another worker claimed since is left to that worker."""
    try:
        with within():
            row = hold(claimed)
            if row is not None:
                do(row)
    except Exception as error:  # any failure must end the run visibly
        logger.exception("%s %s of organization %s failed", what, claimed.pk, claimed.organization_id)
        with transaction.atomic():
            row = hold(claimed)
            if row is not None:
                give_up(row, f"{type(error).__name__}: {error}")


@dataclass(frozen=True)
class Swept:
    """What one sweep did: rows sent to the broker again, and rows given up."""

    requeued: int
    given_up: int


def sweep(
    model: type[Work],
    *,
    now: datetime,
    enqueue: Callable[[Work], None],
    give_up: Callable[[Work, str], None],
    what: str,
) -> Swept:
    """Re-send waiting rows of `model` (in the current tenant scope) whose message looks lost, requeue rows whose
    worker died, and `give_up(row, error)` on rows whose worker died MAX_ATTEMPTS times. Rows a worker holds are
    skipped. One query finds the rows (a partial index over unfinished rows serves it) and one UPDATE requeues
    them; `enqueue(row)` must wait for the commit (mls.celery.enqueue_after_commit). `what` names the work in the
    error the user reads."""
    lease = _lease(model)
    status, locked_until, attempts = (lease.field(name) for name in ("status", "locked_until", "attempts"))
    stale = lease.waiting() & models.Q(**{lease.field("enqueued_at") + "__lt": now - QUEUED_GRACE})
    with transaction.atomic():
        rows = list(_locking(model, skip_locked=True).filter(stale | lease.expired(now)))
        dead = [row for row in rows if getattr(row, locked_until) is not None]
        exhausted = [row for row in dead if getattr(row, attempts) >= MAX_ATTEMPTS]
        again = [row for row in rows if row not in exhausted]
        if again:
            model.objects.filter(pk__in=[row.pk for row in again]).update(
                **{status: lease.queued, locked_until: None, lease.field("enqueued_at"): now}
            )
        for row in again:
            enqueue(row)
        for row in exhausted:
            give_up(
                row,
                f"The worker doing {what} stopped {getattr(row, attempts)} times before it finished "
                "(it was restarted or lost); nothing was kept. Try again, and tell support if it happens again.",
            )
    return Swept(requeued=len(again), given_up=len(exhausted))
