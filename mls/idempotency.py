"""`Idempotency-Key` for API writes (DESIGN.md §4): a retried POST or PATCH happens once.

The key is claimed by inserting a row before the write runs (in its own committed statement, outside the write's
transaction), so the unique constraint decides between concurrent duplicates: one runs, the others get 409. The
answer is stored on the row and replayed to any retry with the same body; the same key with another body is 422.
Keys belong to one organization and one credential (token or member) and live 24 hours.

A write that failed on our side (5xx) or was turned away before it ran (409, 429) releases its key, so the
client's retry with the same key runs the write instead of replaying the failure.
"""

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.timezone import now
from django.utils.translation import gettext as _

from .models import IdempotencyKey, Organization

HEADER = "Idempotency-Key"
RETENTION = timedelta(hours=24)
METHODS = frozenset({"POST", "PATCH"})
NOT_KEPT = frozenset({409, 429})  # turned away before the write ran: a retry should run it
KEY_FORMAT = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, like the UUIDs clients usually send
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers that are part of the answer, so a replay carries them: the new ETag a PATCH's client sends with its next
# If-Match, and where a created object lives.
KEPT_HEADERS = ("ETag", "Location")


def credential_of(caller: object) -> str:
    """Keys are per credential: two tokens of one organization may use the same key for different writes."""
    return f"token-{caller.token.pk}" if caller.token else f"member-{caller.membership.pk}"


def fingerprint(request: HttpRequest) -> str:
    """What makes two requests "the same": method, path, query string and the exact body."""
    digest = hashlib.sha256()
    for part in (request.method, request.path_info, request.META.get("QUERY_STRING", "")):
        digest.update(part.encode() + b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def claim(*, organization: Organization, credential: str, key: str, request_fingerprint: str) -> IdempotencyKey | None:
    """Insert the key (committed at once), or None when a live row for it already exists."""
    IdempotencyKey.objects.filter(credential=credential, key=key, created_at__lt=now() - RETENTION).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                organization=organization, credential=credential, key=key, fingerprint=request_fingerprint
            )
    except IntegrityError:
        return None


def remember(row: IdempotencyKey, response: HttpResponse) -> None:
    """Store the answer for replay, or release the key when the write did not happen."""
    if response.status_code >= 500 or response.status_code in NOT_KEPT or response.streaming:
        row.delete()
        return
    row.response_status = response.status_code
    row.response_body = response.content
    row.response_content_type = response.get("Content-Type", "")
    row.response_headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    row.save(update_fields=["response_status", "response_body", "response_content_type", "response_headers"])


def answer_for(existing: IdempotencyKey | None, request_fingerprint: str) -> HttpResponse:
    """What a request whose key is already taken gets: the stored answer, 422 or 409."""
    if existing is not None and existing.fingerprint != request_fingerprint:
        return _problem(
            422,
            _("This %(header)s was used for a different request. Use a new key for a new request.")
            % {"header": HEADER},
        )
    if existing is None or existing.response_status is None:
        response = _problem(
            409, _("A request with this %(header)s is still being processed. Retry in a moment.") % {"header": HEADER}
        )
        response["Retry-After"] = "1"
        return response
    response = HttpResponse(
        bytes(existing.response_body),
        status=existing.response_status,
        content_type=existing.response_content_type or "application/json",
        headers=existing.response_headers,
    )
    response[REPLAYED_HEADER] = "true"
    return response


def purge_expired() -> int:
    """Daily: forget keys older than the retention (in the current organization's scope)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=now() - RETENTION).delete()
    return deleted


def _problem(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


class IdempotencyMiddleware:
    """Runs inside mls.middleware.ApiScopeMiddleware: the tenant scope is entered and the caller resolved."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get(HEADER)
        caller = getattr(request, "api_caller", None)
        if key is None or caller is None or request.method not in METHODS:
            return self.get_response(request)
        if not KEY_FORMAT.fullmatch(key):
            return JsonResponse(
                {HEADER: [_("Send 1 to 255 visible ASCII characters, e.g. a UUID, and a new one for each new write.")]},
                status=400,
            )
        request_fingerprint = fingerprint(request)
        credential = credential_of(caller)
        row = claim(
            organization=caller.organization, credential=credential, key=key, request_fingerprint=request_fingerprint
        )
        if row is None:
            existing = IdempotencyKey.objects.filter(credential=credential, key=key).first()
            return answer_for(existing, request_fingerprint)
        try:
            response = self.get_response(request)
        except BaseException:
            row.delete()
            raise
        remember(row, response)
        return response


def document_header(result: dict, generator: object, request: object, public: bool) -> dict:
    """drf-spectacular postprocessing hook: every POST and PATCH of the API takes the optional header (and may
    answer what it implies)."""
    parameter = {
        "in": "header",
        "name": HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[\\x21-\\x7e]+$"},
        "description": "Send a new unique value (e.g. a UUID) per write; a retry with the same value and body gets "
        "the first answer again (header Idempotent-Replayed: true) instead of writing twice. Kept 24 hours.",
    }
    answers = {
        "400": "A malformed Idempotency-Key (or field errors).",
        "409": "A request with this Idempotency-Key is still being processed: retry in a moment.",
        "422": "This Idempotency-Key was used for a different request.",
    }
    for operations in result.get("paths", {}).values():
        for method in ("post", "patch"):
            if method in operations:
                operations[method].setdefault("parameters", []).append(parameter)
                responses = operations[method].setdefault("responses", {})
                for status, description in answers.items():
                    responses.setdefault(status, {"description": description})
    return result
