"""The API's request parsing, apart from mls.api: DRF imports this class from its settings while mls.api (which
reads DRF's settings when imported) is still being imported."""

from django.utils.translation import gettext_lazy
from rest_framework import exceptions, parsers

MAX_JSON_DEPTH = 32  # an xAPI statement with extensions nests about ten levels
_TOO_DEEP = gettext_lazy("JSON parse error - nested more than %(depth)s levels deep.")


class BoundedJSONParser(parsers.JSONParser):
    """JSON nested at most MAX_JSON_DEPTH levels; deeper is a 400. 100,000 nested `[` made `json` raise
    RecursionError, a 500 (the body's size is bounded before: DRF reads it as `request.body`, which Django caps
    at DATA_UPLOAD_MAX_MEMORY_SIZE)."""

    def parse(self, stream: object, media_type: str | None = None, parser_context: dict | None = None) -> object:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise exceptions.ParseError(_TOO_DEEP % {"depth": MAX_JSON_DEPTH}) from error
        if _nested_deeper_than(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(_TOO_DEEP % {"depth": MAX_JSON_DEPTH})
        return data


def _nested_deeper_than(data: object, limit: int) -> bool:
    """Whether the lists and objects of `data` nest deeper than `limit`; walked with a stack, not recursion."""
    pending = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
