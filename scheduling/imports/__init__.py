"""CSV import of delivery history: learners, sessions, enrollments, completions, support tickets, feedback,
assessment attempts and compliance assignments.

A file is read whole and every row is checked before anything is written; only a file without a single error is
saved, in one transaction, upserting by `external_id`. A bad file therefore costs the user a correction, never
half an import. Errors name the row a spreadsheet shows (the header is row 1) and the column, so they can be
fixed in place.

The rules are the web's, applied to all rows at once (set-based, not a service call per row): capacity and the
FIFO waitlist (`services.place_enrollments`, under the sessions' locks), compliance assignments closed by a
completion (`services.close_compliance_assignments`), double booking (`services.double_bookings`); a past
delivery is a mode of those rules (README, "Live and historic writes"). Each written row gets its own audit event
with the sheet's fields before and after. Call it inside `organization_scope(organization)`: every lookup goes
through the scoped managers, so another tenant's rows are invisible and cannot be matched or overwritten.

The modules, each importing only those above it: `rows` (a row read, checked and written; the result), `lookups`
(set-based reads), `references` (a row's engagement), `sheets` (the sheet base and the delivery sheets), `records`
(feedback, assessment attempts, compliance assignments, courses, outages), `reading` (the CSV), `writing` (the
entry points, the checks across rows and the write).
"""

from .reading import MAX_COLUMNS, MAX_ROWS
from .rows import ImportResult, RowError
from .writing import IMPORT_ORDER, SHEETS, Progress, import_csv, import_records, kinds_of, template_csv

__all__ = [
    "IMPORT_ORDER",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "SHEETS",
    "ImportResult",
    "Progress",
    "RowError",
    "import_csv",
    "import_records",
    "kinds_of",
    "template_csv",
]
