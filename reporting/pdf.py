"""HTML → PDF with WeasyPrint, locked down: the only resources a document may load are our own static files.

A QBR or statement template renders tenant data (names, notes, ticket subjects). Should any of it ever reach the
HTML unescaped, WeasyPrint's default fetcher would follow `http://` (server-side request forgery from our
network), `file:///etc/passwd` or a redirect. `StaticFilesOnly` serves `file://` URLs inside the static
directories and refuses everything else — no network, no `..` escape, no redirects — and the PDF still renders
without the refused resource. Fonts come from static/fonts through the same fetcher and are embedded in the PDF.
"""

import logging
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)

PRINT_STYLESHEET = "css/print.css"


class FetchRefused(ValueError):
    """A document asked for a resource outside our static files."""


def static_roots() -> list[Path]:
    """Where our static files live: the source directories and, once collected, STATIC_ROOT."""
    return [Path(root).resolve() for root in [*settings.STATICFILES_DIRS, settings.STATIC_ROOT] if Path(root).is_dir()]


def static_base_url() -> str:
    """Relative URLs in a PDF template (`fonts/…`, `css/…`) resolve against the first static directory."""
    return static_roots()[0].as_uri() + "/"


class StaticFilesOnly(URLFetcher):
    """Serves `file://` URLs inside the static roots; refuses every other URL (and never opens a connection)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.roots = static_roots()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        path = self._static_path(url)
        if path is None:
            self.refused.append(url)
            logger.warning("PDF rendering refused to fetch %s", url)
            raise FetchRefused(f"Only static files may be loaded into a PDF, not {url}")
        mime_type, _ = mimetypes.guess_type(path.name)
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), {"Content-Type": mime_type or "application/octet-stream"}
        )

    def _static_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        # resolve() collapses `..` and follows symlinks, so the containment check sees the real file.
        path = Path(unquote(parts.path)).resolve()
        if not path.is_file() or not any(path.is_relative_to(root) for root in self.roots):
            return None
        return path


@dataclass(frozen=True)
class Pdf:
    content: bytes
    pages: int


def html_to_pdf(html: str, fetcher: StaticFilesOnly | None = None) -> Pdf:
    """The PDF of `html`, with the print stylesheet (fonts, @page running headers and page numbers)."""
    fetcher = fetcher or StaticFilesOnly()
    fonts = FontConfiguration()
    base_url = static_base_url()
    stylesheet = CSS(url=base_url + PRINT_STYLESHEET, url_fetcher=fetcher, font_config=fonts)
    document = HTML(string=html, base_url=base_url, url_fetcher=fetcher).render(
        stylesheets=[stylesheet], font_config=fonts
    )
    return Pdf(document.write_pdf(), len(document.pages))


def render_pdf(template: str, context: dict) -> Pdf:
    return html_to_pdf(render_to_string(template, context))
