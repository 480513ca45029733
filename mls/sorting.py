"""Column sorting for list pages: `?sort=name` ascending, `?sort=-name` descending, from a whitelist per list.

One helper for every list so the rules hold everywhere: an unknown key falls back to the list's default (never a
500, never an arbitrary field from the URL), ties are broken by pk in the same direction so pages never repeat
or skip a row, nulls sort last either way, and the pager's labels follow the order ("Earlier"/"Later" only when
the list runs by date, "Previous"/"Next" otherwise).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Self
from urllib.parse import urlencode

from django.db.models import F, OrderBy, QuerySet
from django.http import HttpRequest


@dataclass(frozen=True)
class Column:
    """A sortable column: the ORM fields it orders by (a "-field" tie-breaker runs against the chosen direction)
    and whether it holds dates (then the pager says Earlier/Later)."""

    fields: tuple[str, ...]
    chronological: bool = False


def by(*fields: str) -> Column:
    return Column(fields)


def by_date(*fields: str) -> Column:
    return Column(fields, chronological=True)


@dataclass(frozen=True)
class Sorting:
    """The order a list page shows, read from `?sort=`; `apply` orders a queryset, the template builds headers."""

    columns: Mapping[str, Column]
    key: str
    descending: bool
    query: Mapping[str, str]

    @classmethod
    def from_request(cls, request: HttpRequest, columns: Mapping[str, Column], default: str) -> Self:
        """`default` is a key of `columns`, optionally with a leading "-"."""
        requested = request.GET.get("sort", "")
        if requested.removeprefix("-") not in columns:
            requested = default
        query = {k: v for k, v in request.GET.items() if k not in ("sort", "page")}
        return cls(columns, requested.removeprefix("-"), requested.startswith("-"), query)

    @property
    def value(self) -> str:
        return f"-{self.key}" if self.descending else self.key

    def order_by(self) -> list[OrderBy]:
        """The column's fields in the chosen direction ("-field" in a column runs against it), then pk."""
        terms = []
        for field in (*self.columns[self.key].fields, "pk"):
            column = F(field.removeprefix("-"))
            descending = self.descending != field.startswith("-")
            terms.append(column.desc(nulls_last=True) if descending else column.asc(nulls_last=True))
        return terms

    def apply(self, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*self.order_by())

    @property
    def page_order(self) -> str:
        """What `_pagination.html` calls the order: "oldest"/"newest" for a list by date, else ""."""
        if not self.columns[self.key].chronological:
            return ""
        return "newest" if self.descending else "oldest"

    def aria_sort(self, key: str) -> str:
        if key != self.key:
            return "none"
        return "descending" if self.descending else "ascending"

    def url_for(self, key: str) -> str:
        """The link of a column header: the active column flips direction; another starts ascending (dates too:
        the user asked for that column, the arrow shows which way). Filters are kept, the page resets."""
        value = f"-{key}" if key == self.key and not self.descending else key
        return "?" + urlencode({**self.query, "sort": value})
