"""The certificate PDF: one A4 landscape page with the facts, the serial, the verification URL and its QR code, in
the learner's language; rendered through the fetcher that loads our static files and nothing else."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import segno
from django.conf import settings

from certificates import selectors, services
from reporting.pdf import StaticFilesOnly, static_roots
from tests.certificates.conftest import ISSUED_AT, completion_of
from tests.reporting.pdf_tools import pdf_text

pytestmark = pytest.mark.unit

A4_LANDSCAPE = "841.89 x 595.276 pts (A4)"  # 297 × 210 mm in points, as pdfinfo reports it


def _page_size(pdf: bytes) -> str:
    """pdfinfo's "Page size" (it cannot read stdin, hence the file)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "certificate.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(  # noqa: S603 - a fixed poppler tool on our own bytes
            [shutil.which("pdfinfo"), str(path)], capture_output=True, check=True, text=True
        ).stdout
    return re.search(r"^Page size:\s+(.+)$", info, re.M)[1]


def _issued(certified):
    with certified.tenant.scope():
        return services.issue_certificate(certified.completion, ISSUED_AT)


def _flat(text: str) -> str:
    """pdftotext's layout as one line of single spaces (the URL and long names may wrap)."""
    return " ".join(text.split())


def test_certificate_is_one_a4_landscape_page_with_the_facts(certified, settings):
    settings.SITE_URL = "https://mls.example.com"
    certificate = _issued(certified)

    pdf = services.render_certificate(certificate)
    text = _flat(pdf_text(pdf.content))

    assert pdf.pages == 1
    assert _page_size(pdf.content) == A4_LANDSCAPE
    assert re.findall(r"Certificate of completion|Grace Hopper|Data protection essentials", text) == [
        "Certificate of completion",
        "Grace Hopper",
        "Data protection essentials",
    ]
    assert "Course GDPR-2 · 3.5 hours" in text
    assert "Completed on 3 Mar 2026" in text  # the Berlin venue's day (23:30 UTC on 2 March)
    assert "Delivered by Northwind Learning" in text
    assert "Issued on 4 Mar 2026" in text
    assert "Dates in the time zone Europe/Berlin" in text
    assert f"Certificate no. {certificate.public_code}" in text
    assert f"https://mls.example.com/verify/{certificate.public_code}/" in text


def test_a_german_learners_certificate_is_german(certified_de):
    certificate = _issued(certified_de)

    text = _flat(pdf_text(services.render_certificate(certificate).content))

    assert (
        "Zertifikat Hiermit wird bestätigt, dass Jürgen Weiß den folgenden Kurs erfolgreich abgeschlossen hat" in text
    )
    assert "Kurs GDPR-2 · 3,5 Stunden" in text
    assert "Abgeschlossen am 3. März 2026" in text
    assert "Durchgeführt von Northwind Learning" in text
    assert "Ausgestellt am 4. März 2026" in text
    assert "Datumsangaben in der Zeitzone Europe/Berlin" in text
    assert f"Zertifikat-Nr. {certificate.public_code}" in text
    assert "Certificate" not in text


def test_certificate_pdf_issues_the_certificate_and_returns_the_pdf(certified):
    with certified.tenant.scope():
        pdf = services.certificate_pdf(certified.completion, now=ISSUED_AT)
        filename, content, mimetype = services.certificate_attachment(certified.completion, now=ISSUED_AT)

        code = certified.completion.certificate.public_code

    assert (pdf.startswith(b"%PDF-"), filename, mimetype) == (
        True,
        "certificate-gdpr-2-grace-hopper.pdf",
        "application/pdf",
    )
    assert code in _flat(pdf_text(content))


def _drawn_modules(svg: str) -> list[list[bool]]:
    """The dark modules an inline SVG from segno draws: its path is `M x y` / `m dx dy` moves and `h n` runs of
    n dark modules along the row y - 0.5 (a stroke one module wide), in a `viewBox` of modules."""
    size = int(re.search(r'viewBox="0 0 (\d+) \1"', svg)[1])
    path = re.search(r'<path [^>]*d="([^"]+)"', svg)[1]
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for column in range(int(x), int(x) + int(first)):
                grid[int(y - 0.5)][column] = True
            x += int(first)
    return grid


def test_the_qr_code_is_the_verification_urls(certified):
    certificate = _issued(certified)
    url = selectors.verification_url(certificate)

    html = services.certificate_html(certificate)
    svg = re.search(r'<svg [^>]*class="qr".*?</svg>', html, re.S)[0]

    expected = [[bool(module) for module in row] for row in segno.make_qr(url, error="m").matrix_iter(border=4)]
    assert _drawn_modules(svg) == expected
    assert html.count("<svg") == 1


class RecordingFetcher(StaticFilesOnly):
    """The production fetcher, noting every URL the document asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def fetch(self, url: str, headers: dict | None = None):
        self.asked.append(url)
        return super().fetch(url, headers)


def test_rendering_fetches_only_our_static_files_even_for_hostile_names(tenant_a):
    hostile = '<img src="http://127.0.0.1:1/x"><link rel="stylesheet" href="file:///etc/passwd">'
    certified = completion_of(tenant_a, learner_name=f"Eve {hostile}")
    certificate = _issued(certified)
    fetcher = RecordingFetcher()

    pdf = services.render_certificate(certificate, fetcher)

    roots = static_roots()
    assert fetcher.refused == []
    assert sorted({Path(url.removeprefix("file://")).relative_to(roots[0]).as_posix() for url in fetcher.asked}) == [
        "css/print.css",
        "fonts/LiberationSans-Bold.ttf",
        "fonts/LiberationSans-Regular.ttf",
    ]
    assert f"Eve {hostile}" in _flat(pdf_text(pdf.content))  # printed as text, never markup
    assert Path(settings.STATICFILES_DIRS[0]).resolve() == roots[0]
