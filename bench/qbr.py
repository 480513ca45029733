"""Benchmark: rendering a QBR (selectors + template + WeasyPrint) vs WeasyPrint alone on the same final HTML.

Run: .venv/bin/python bench/qbr.py [runs]
DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/mls_bench_qbr; the database is created, migrated and
seeded with the demo tenant (`seed_demo`: a year of delivery for the Acme engagement) if missing, and kept.

QBR: `reporting.qbr.qbr_content` for the demo engagement's latest finished quarter, `render_html` and
`reporting.pdf.html_to_pdf`, as the render task does (without storing the file). Floor: `html_to_pdf` of the HTML
the QBR run produced. The median of `runs` (default 5) of each, run alternately after one warm-up.
"""

import statistics
import sys
import time
from collections.abc import Callable

import report
import setup

setup.django("mls_bench_qbr", CELERY_TASK_ALWAYS_EAGER="true")

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from engagements.demo import ENGAGEMENT_NAME  # noqa: E402
from engagements.models import Engagement  # noqa: E402
from mls.models import Organization  # noqa: E402
from mls.tenancy import organization_scope  # noqa: E402
from reporting import pdf, qbr  # noqa: E402
from slas.enums import PeriodStatus  # noqa: E402
from slas.models import SlaPeriod  # noqa: E402


def seconds(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main(runs: int) -> None:
    call_command("migrate", verbosity=0)
    if not Organization.objects.filter(slug="acme").exists():
        call_command("seed_demo")
    with organization_scope(Organization.objects.get(slug="acme")):
        engagement = Engagement.objects.get(name=ENGAGEMENT_NAME)
        quarter_ends = SlaPeriod.objects.filter(
            engagement=engagement, status=PeriodStatus.FINALIZED, month__month__in=[3, 6, 9, 12]
        )
        last = quarter_ends.order_by("-month").first()
        quarter = qbr.Quarter.containing(last.month, engagement.timezone)
        now = timezone.now()
        html = {}

        def full_render() -> pdf.Pdf:
            html["final"] = qbr.render_html(qbr.qbr_content(engagement, quarter, as_of=now, draft=False), revision=1)
            return pdf.html_to_pdf(html["final"])

        full_render()  # warm-up: template compilation, fonts, connection
        # Interleaved, so both see the same load on a shared machine.
        fulls, floors = [], []
        for _ in range(runs):
            elapsed, document = seconds(full_render)
            fulls.append(elapsed)
            floors.append(seconds(lambda: pdf.html_to_pdf(html["final"]))[0])
        full, floor = statistics.median(fulls), statistics.median(floors)

    print(f"QBR {quarter.label} of {engagement.name}: {document.pages} pages, {len(document.content) / 1024:.0f} KiB")
    print(f"selectors + template + WeasyPrint: {full:.2f} s (median of {runs})")
    print(f"WeasyPrint alone, same HTML:       {floor:.2f} s")
    print(f"ratio: {full / floor:.2f}x (target <= 1.5x)")
    report.ratio(
        f"QBR {quarter.label}, {document.pages} pages",
        full,
        floor,
        floor="WeasyPrint alone, same HTML",
        target="≤ 1.5×",
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
