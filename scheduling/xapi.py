"""xAPI 1.0.3 statements from an LMS or LRS, recorded as MLS delivery data.

MLS is not a full LRS: it accepts the four verbs it can turn into delivery records and says so for any other.
- `completed` → a Completion of the course (source xAPI), through the same service as the web app, so it also
  closes the learner's compliance assignments;
- `passed` / `failed` → an AssessmentAttempt (score = `result.score.scaled` × 100, or raw within min..max);
- `attended` → present on the learner's enrollment in a session of the course held that day.
The actor is a Learner by `mbox` (email) or by `account.name` (the learner's external_id); the object's `id` is the
Course's external_id, or an IRI ending in `/courses/<code>` or `/<code>`. A batch is all or nothing, like an LRS;
statement ids are kept, so re-sending a statement is a no-op and re-using an id for another statement is 409.
"""

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from mls.models import Membership
from mls.validators import EARLIEST_YEAR, LATEST_YEAR, is_sane_year

from . import services
from .enums import SEATED_STATUSES, CompletionSource
from .models import AssessmentAttempt, Course, Enrollment, Learner, Session, XapiStatement

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERBS = {f"{ADL_VERBS}{name}": name for name in ("completed", "passed", "failed", "attended")}
SUPPORTED_VERSIONS = re.compile(r"1\.0(\.[0-3])?")
IRI = re.compile(r"[a-zA-Z][a-zA-Z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
# cmi5's mastery score (scaled 0..1) is the pass mark when the LMS sends it.
MASTERY_SCORE = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
DEFAULT_PASS_MARK = Decimal("70.00")  # the course's last known pass mark comes first; this only if it has none
HUNDRED = Decimal(100)


class StatementError(Exception):
    """A statement MLS cannot accept; `path` says where, like `statements[2].verb.id`."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.message = path, message


class StatementConflict(Exception):
    """A statement id already stored for a different statement (the LRS answer is 409)."""


@dataclass(frozen=True)
class Statement:
    id: uuid.UUID
    verb: str  # completed / passed / failed / attended
    email: str  # the actor's, from mbox ("" when identified by account)
    account: str  # the actor's account name ("" when identified by mbox)
    activity: str  # the object's IRI
    timestamp: datetime
    score: Decimal | None  # 0..100
    success: bool | None
    pass_mark: Decimal | None
    raw: dict
    path: str  # where it was in the request, for error messages


# --- Reading -----------------------------------------------------------------------------------------------


def check_version(header: str | None) -> None:
    if header is None:
        raise StatementError("X-Experience-API-Version", _("Send the header X-Experience-API-Version: 1.0.3."))
    if not SUPPORTED_VERSIONS.fullmatch(header.strip()):
        raise StatementError(
            "X-Experience-API-Version", _("Version %(version)r is not supported; send 1.0.3.") % {"version": header}
        )


def parse_statements(body: object, *, received_at: datetime) -> list[Statement]:
    """One statement (an object) or a batch (an array), every problem named by its path; raises the first."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise StatementError("statements", _("Send at least one statement."))
    paths = [f"statements[{index}]" for index in range(len(items))] if isinstance(body, list) else ["statement"]
    statements = [_statement(item, path, received_at) for item, path in zip(items, paths, strict=True)]
    ids = [statement.id for statement in statements]
    if len(set(ids)) != len(ids):
        raise StatementError("statements", _("Two statements of the batch have the same id."))
    return statements


def _object(value: object, path: str) -> dict:
    if not isinstance(value, dict):
        raise StatementError(path, _("Must be a JSON object."))
    return value


def _iri(value: object, path: str) -> str:
    if not isinstance(value, str) or not IRI.fullmatch(value):
        raise StatementError(path, _("Must be an absolute IRI, e.g. http://adlnet.gov/expapi/verbs/completed."))
    return value


def _statement(raw: object, path: str, received_at: datetime) -> Statement:
    statement = _object(raw, path)
    if "version" in statement and not (
        isinstance(statement["version"], str) and SUPPORTED_VERSIONS.fullmatch(statement["version"])
    ):
        raise StatementError(f"{path}.version", _("Only xAPI 1.0.x statements are accepted."))
    statement_id = _statement_id(statement.get("id"), f"{path}.id")
    email, account = _actor(statement.get("actor"), f"{path}.actor")
    verb = _verb(statement.get("verb"), f"{path}.verb")
    activity = _activity(statement.get("object"), f"{path}.object")
    score, success = _result(statement.get("result"), f"{path}.result")
    if verb in ("passed", "failed"):
        if score is None:
            raise StatementError(
                f"{path}.result.score", _("A %(verb)s statement needs result.score (scaled, or raw).") % {"verb": verb}
            )
        if success is not None and success != (verb == "passed"):
            raise StatementError(f"{path}.result.success", _("Contradicts the verb %(verb)s.") % {"verb": verb})
    return Statement(
        id=statement_id,
        verb=verb,
        email=email,
        account=account,
        activity=activity,
        timestamp=_timestamp(statement.get("timestamp"), f"{path}.timestamp", received_at),
        score=score,
        success=success,
        pass_mark=_mastery(statement.get("context"), f"{path}.context"),
        raw=statement,
        path=path,
    )


def _statement_id(value: object, path: str) -> uuid.UUID:
    if value is None:
        return uuid.uuid4()
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise StatementError(path, _("Must be a UUID.")) from None


def _actor(value: object, path: str) -> tuple[str, str]:
    actor = _object(value, path)
    if actor.get("objectType", "Agent") != "Agent":
        raise StatementError(f"{path}.objectType", _("Only an Agent (one learner) can be the actor."))
    identifiers = [key for key in ("mbox", "mbox_sha1sum", "openid", "account") if key in actor]
    if len(identifiers) != 1:
        raise StatementError(path, _("Identify the learner by exactly one of mbox or account."))
    if identifiers[0] == "mbox":
        mbox = actor["mbox"]
        if not isinstance(mbox, str) or not mbox.startswith("mailto:"):
            raise StatementError(f"{path}.mbox", _("Must be a mailto: IRI, e.g. mailto:ada@example.com."))
        try:
            validate_email(mbox.removeprefix("mailto:"))
        except ValidationError:
            raise StatementError(f"{path}.mbox", _("Not a valid email address.")) from None
        return mbox.removeprefix("mailto:").lower(), ""
    if identifiers[0] == "account":
        account = _object(actor["account"], f"{path}.account")
        _iri(account.get("homePage"), f"{path}.account.homePage")
        name = account.get("name")
        if not isinstance(name, str) or not name.strip():
            raise StatementError(f"{path}.account.name", _("Must be the learner's id in your system."))
        return "", name.strip()
    raise StatementError(f"{path}.{identifiers[0]}", _("Not supported: identify the learner by mbox or account."))


def _verb(value: object, path: str) -> str:
    verb_id = _iri(_object(value, path).get("id"), f"{path}.id")
    if verb_id not in VERBS:
        supported = ", ".join(VERBS)
        raise StatementError(f"{path}.id", _("MLS records only these verbs: %(verbs)s.") % {"verbs": supported})
    return VERBS[verb_id]


def _activity(value: object, path: str) -> str:
    activity = _object(value, path)
    if activity.get("objectType", "Activity") != "Activity":
        raise StatementError(f"{path}.objectType", _("Must be an Activity (the course)."))
    return _iri(activity.get("id"), f"{path}.id")


def _decimal(value: object, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise StatementError(path, _("Must be a number."))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise StatementError(path, _("Must be a number.")) from None


def _result(value: object, path: str) -> tuple[Decimal | None, bool | None]:
    if value is None:
        return None, None
    result = _object(value, path)
    success = result.get("success")
    if success is not None and not isinstance(success, bool):
        raise StatementError(f"{path}.success", _("Must be true or false."))
    if "score" not in result:
        return None, success
    score = _object(result["score"], f"{path}.score")
    if "scaled" in score:
        scaled = _decimal(score["scaled"], f"{path}.score.scaled")
        if not -1 <= scaled <= 1:
            raise StatementError(f"{path}.score.scaled", _("Must be between -1 and 1."))
        return (max(scaled, Decimal(0)) * HUNDRED).quantize(Decimal("0.01")), success
    if {"raw", "min", "max"} <= score.keys():
        raw, low, high = (_decimal(score[key], f"{path}.score.{key}") for key in ("raw", "min", "max"))
        if not low <= raw <= high or low == high:
            raise StatementError(f"{path}.score.raw", _("Must lie between min and max (and min below max)."))
        return ((raw - low) / (high - low) * HUNDRED).quantize(Decimal("0.01")), success
    raise StatementError(f"{path}.score", _("Send scaled (-1..1), or raw with min and max."))


def _timestamp(value: object, path: str, received_at: datetime) -> datetime:
    if value is None:
        return received_at
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but no such day, e.g. 2026-02-30
        moment = None
    if moment is None or timezone.is_naive(moment):
        raise StatementError(path, _("Must be an ISO 8601 moment with its offset, e.g. 2026-03-02T12:00:00Z."))
    if moment > received_at + timedelta(minutes=5):
        raise StatementError(path, _("Is in the future."))
    if not is_sane_year(moment.year):
        raise StatementError(
            path, _("Give a year from %(earliest)s to %(latest)s.") % {"earliest": EARLIEST_YEAR, "latest": LATEST_YEAR}
        )
    return moment


def _mastery(value: object, path: str) -> Decimal | None:
    if not isinstance(value, dict) or not isinstance(value.get("extensions"), dict):
        return None
    if MASTERY_SCORE not in value["extensions"]:
        return None
    mastery = _decimal(value["extensions"][MASTERY_SCORE], f"{path}.extensions")
    if not 0 <= mastery <= 1:
        raise StatementError(f"{path}.extensions", _("The cmi5 mastery score must be between 0 and 1."))
    return (mastery * HUNDRED).quantize(Decimal("0.01"))


# --- Recording ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Directory:
    """The learners and courses a batch names, loaded in one query each."""

    by_email: dict[str, Learner]
    by_account: dict[str, Learner]
    courses: list[Course]

    @classmethod
    def load(cls, statements: list[Statement]) -> "_Directory":
        emails = {s.email for s in statements if s.email}
        accounts = {s.account for s in statements if s.account}
        learners = Learner.objects.filter(Q(email__in=emails) | Q(external_id__in=accounts))
        tails = {s.activity.rstrip("/").rsplit("/", 1)[-1] for s in statements}
        courses = Course.objects.filter(Q(external_id__in={s.activity for s in statements}) | Q(code__in=tails))
        return cls(
            by_email={learner.email.lower(): learner for learner in learners if learner.email},
            by_account={learner.external_id: learner for learner in learners if learner.external_id},
            courses=list(courses),
        )

    def learner(self, statement: Statement, path: str) -> Learner:
        found = self.by_email.get(statement.email) if statement.email else self.by_account.get(statement.account)
        if found is None:
            who = f"mbox mailto:{statement.email}" if statement.email else f"account name {statement.account!r}"
            message = _("No learner with %(who)s: create or import the learner first.") % {"who": who}
            raise StatementError(f"{path}.actor", message)
        return found

    def course(self, statement: Statement, path: str) -> Course:
        by_id = [course for course in self.courses if course.external_id and course.external_id == statement.activity]
        tail = statement.activity.rstrip("/").rsplit("/", 1)[-1]
        found = by_id or [course for course in self.courses if course.code == tail]
        if not found:
            raise StatementError(
                f"{path}.object.id",
                _("No course with this external_id, nor with the code the IRI ends with (…/courses/<code>)."),
            )
        return found[0]


def _enrollment(learner: Learner, course: Course, when: datetime) -> Enrollment | None:
    """The learner's seat in a session of the course: the one running that day, else the latest before then."""
    seats = (
        Enrollment.objects.filter(learner=learner, session__course=course, status__in=SEATED_STATUSES)
        .select_related("session__engagement")
        .order_by("-session__starts_at")
    )
    return seats.filter(session__starts_at__lte=when).first()


def _delivered_under(learner: Learner, course: Course, when: datetime, path: str) -> tuple[Session, Enrollment | None]:
    """Delivery data belongs to an engagement: the one of the learner's session of this course (with the seat), or
    the latest session of the course (self-paced learning delivered under an engagement, no seat)."""
    enrollment = _enrollment(learner, course, when)
    if enrollment is not None:
        return enrollment.session, enrollment
    session = Session.objects.filter(course=course).select_related("engagement").order_by("-starts_at").first()
    if session is None:
        raise StatementError(
            f"{path}.object.id", _("Course %(code)s is not delivered under any engagement.") % {"code": course.code}
        )
    return session, None


def _record_completion(statement: Statement, learner: Learner, course: Course, membership: Membership, path: str):
    session, enrollment = _delivered_under(learner, course, statement.timestamp, path)
    completion = services.record_completion(
        learner=learner,
        course=course,
        completed_at=statement.timestamp,
        membership=membership,
        engagement=session.engagement,
        session=session if enrollment else None,
        source=CompletionSource.XAPI,
    )
    return {"completion": completion}


def _record_attempt(statement: Statement, learner: Learner, course: Course, membership: Membership, path: str):
    session, _ = _delivered_under(learner, course, statement.timestamp, path)
    services.require_delivery_writer(membership, session.engagement)
    pass_mark = statement.pass_mark
    if pass_mark is None:
        latest = AssessmentAttempt.objects.filter(course=course).order_by("-attempted_at").first()
        pass_mark = latest.pass_mark if latest else DEFAULT_PASS_MARK
    attempt = services.record_assessment_attempt(
        learner=learner,
        course=course,
        attempted_at=statement.timestamp,
        score=statement.score,
        pass_mark=pass_mark,
        passed=statement.verb == "passed",
        membership=membership,
    )
    return {"attempt": attempt}


def _record_attendance(statement: Statement, learner: Learner, course: Course, membership: Membership, path: str):
    enrollment = _enrollment(learner, course, statement.timestamp)
    same_day = enrollment and timezone.localdate(enrollment.session.starts_at) == timezone.localdate(
        statement.timestamp
    )
    if not same_day:
        raise StatementError(
            f"{path}.object.id", _("The learner has no seat in a session of %(code)s that day.") % {"code": course.code}
        )
    attendance, _created = services.record_enrollment_attendance(
        enrollment=enrollment, membership=membership, present=True
    )
    return {"attendance": attendance}


RECORDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "completed": _record_completion,
    "passed": _record_attempt,
    "failed": _record_attempt,
    "attended": _record_attendance,
}


@transaction.atomic
def record_statements(*, statements: list[Statement], membership: Membership) -> list[str]:
    """Record the batch, all or nothing; a statement already stored with the same content is left as it is."""
    stored = {
        row.statement_id: row for row in XapiStatement.objects.filter(statement_id__in=[s.id for s in statements])
    }
    directory = _Directory.load(statements)
    for statement in statements:
        path = statement.path
        if (known := stored.get(statement.id)) is not None:
            if known.statement != statement.raw | {"id": str(statement.id)}:
                raise StatementConflict(
                    _("%(path)s.id: statement %(id)s was already stored with other content.")
                    % {"path": path, "id": statement.id}
                )
            continue
        learner, course = directory.learner(statement, path), directory.course(statement, path)
        try:
            records = RECORDERS[statement.verb](statement, learner, course, membership, path)
        except ValidationError as error:
            raise StatementError(path, " ".join(error.messages)) from None
        XapiStatement.objects.create(
            organization=membership.organization,
            statement_id=statement.id,
            verb=statement.verb,
            learner=learner,
            course=course,
            statement=statement.raw | {"id": str(statement.id)},
            **records,
        )
    return [str(statement.id) for statement in statements]
