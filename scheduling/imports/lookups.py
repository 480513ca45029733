"""What the rows are checked against, read in sets: one query per chunk of values, whatever the number of rows."""

from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connection, models
from django.db.models.functions import Lower

from scheduling.models import Learner

from .rows import _Row


def _chunk_size() -> int:
    """SQLite (the zero-config run path) caps the parameters of one query; PostgreSQL takes a whole file."""
    limit = connection.features.max_query_params
    return min(10_000, limit - 10) if limit else 10_000


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _by(queryset: models.QuerySet, field: str, values: Iterable[Any]) -> dict[Any, Any]:
    """Rows of `queryset` whose `field` is one of `values`, keyed by it: one query per chunk, none for no values."""
    wanted = sorted({value for value in values if value})
    found: dict[Any, Any] = {}
    for chunk in _chunks(wanted, _chunk_size()):
        found.update((getattr(obj, field), obj) for obj in queryset.filter(**{f"{field}__in": chunk}))
    return found


def _learners_by_id_or_email(external_ids: set[str], emails: set[str]) -> list[Learner]:
    """The scope's learners with one of `external_ids` or (in any case) one of `emails`, annotated `email_key`
    (the lowercased email): one query per chunk, none for no values. A learner may come twice.

    One SELECT per condition, joined by UNION ALL, so each is an index lookup: PostgreSQL planned the OR of both
    as a filter over all of a tenant's learners when it had no statistics for the tenant yet. Outside a scope the
    scoped manager raises.
    """
    return [learner for query in _learner_queries(external_ids, emails) for learner in query]


def _learner_queries(external_ids: set[str], emails: set[str]) -> Iterator[models.QuerySet]:
    """The queries of `_learners_by_id_or_email`, one per chunk of values. The external_id condition repeats the
    predicate of its partial unique index (`<> ''`): without it, and without statistics, the planner rated that
    index no better than the email one filtered by external_id."""
    learners = Learner.objects.annotate(email_key=Lower("email")).order_by()
    by_id, by_email = learners.exclude(external_id=""), learners
    ids, keys = sorted(external_ids), sorted(emails)
    size = max(1, _chunk_size() // 2 - 2)
    for start in range(0, max(len(ids), len(keys)), size):
        chunk_ids, chunk_keys = ids[start : start + size], keys[start : start + size]
        queries = [by_id.filter(external_id__in=chunk_ids)] if chunk_ids else []
        queries += [by_email.filter(email_key__in=chunk_keys)] if chunk_keys else []
        first, *others = queries
        yield first.union(*others, all=True) if others else first


def _column_values(rows: list[_Row], column: str) -> set[str]:
    return {row.cells.get(column, "") for row in rows} - {""}
