"""The PDF fetcher serves our static files and nothing else; a hostile document still renders, without the resource."""

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings

from reporting.pdf import FetchRefused, StaticFilesOnly, html_to_pdf
from tests.reporting.pdf_tools import pdf_fonts, pdf_text

pytestmark = pytest.mark.unit


class _Recorder(BaseHTTPRequestHandler):
    """A local web server that redirects everything to /etc/passwd and remembers each request it got."""

    requests: list[str] = []

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        self.send_response(302)
        self.send_header("Location", "file:///etc/passwd")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server():
    _Recorder.requests = []
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_fetcher_serves_a_static_file():
    font = Path(settings.STATICFILES_DIRS[0]) / "fonts" / "LiberationSans-Regular.ttf"

    response = StaticFilesOnly().fetch(font.as_uri())

    assert response.read() == font.read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:1/x",
        "https://example.com/logo.png",
        "file:///etc/passwd",
        "ftp://example.com/x",
        "data:text/plain,hello",
        "file://evil.example/etc/passwd",
    ],
)
def test_fetcher_refuses_anything_but_static_files(url):
    fetcher = StaticFilesOnly()

    with pytest.raises(FetchRefused):
        fetcher.fetch(url)

    assert fetcher.refused == [url]


def test_fetcher_refuses_a_path_that_escapes_static_with_dot_dot():
    escape = Path(settings.STATICFILES_DIRS[0]).as_uri() + "/css/../../../../../../etc/passwd"
    fetcher = StaticFilesOnly()

    with pytest.raises(FetchRefused):
        fetcher.fetch(escape)

    assert fetcher.refused == [escape]


def test_hostile_document_renders_without_fetching_anything(web_server):
    static = Path(settings.STATICFILES_DIRS[0]).as_uri()
    hostile = f"""<html><head>
      <link rel="stylesheet" href="file:///etc/passwd">
      <link rel="stylesheet" href="{web_server}/redirect.css">
      <style>@import url("{web_server}/imported.css"); @import "{static}/../../../etc/hostname";
        body {{ background: url("{web_server}/background.png"); }}
        @font-face {{ font-family: x; src: url("{web_server}/font.ttf"); }}</style>
      </head><body>
      <h1>Quarterly business review</h1>
      <img src="http://127.0.0.1:1/x" alt="probe"><img src="{web_server}/redirect.png" alt="redirect">
      <img src="file:///etc/passwd" alt="passwd"><img src="{static}/../../../../../../etc/passwd" alt="escape">
      <iframe src="{web_server}/frame"></iframe><object data="{web_server}/object.svg"></object>
      </body></html>"""
    fetcher = StaticFilesOnly()

    pdf = html_to_pdf(hostile, fetcher).content

    assert pdf.startswith(b"%PDF-")
    assert "Quarterly business review" in pdf_text(pdf)
    assert _Recorder.requests == []  # the redirecting server was never contacted
    assert set(fetcher.refused) == {
        "file:///etc/passwd",
        f"{static}/../../../../../../etc/passwd",
        f"{static}/../../../etc/hostname",
        f"{web_server}/object.svg",
        f"{web_server}/redirect.css",
        f"{web_server}/imported.css",
        f"{web_server}/background.png",
        f"{web_server}/font.ttf",
        "http://127.0.0.1:1/x",
        f"{web_server}/redirect.png",
    }


def test_pdf_embeds_the_static_font_and_numbers_its_pages():
    pdf = html_to_pdf('<h1 class="document-title">Fee statement</h1><p style="break-before: page">Second</p>').content

    rows = pdf_fonts(pdf)
    text = pdf_text(pdf)

    assert rows
    assert all("MLS-Sans" in row for row in rows)  # the @font-face family from static/fonts
    assert all(row.split()[-5] == "yes" for row in rows)  # the "emb" column: every font is embedded
    assert "Page 1 of 2" in text
    assert "Page 2 of 2" in text
