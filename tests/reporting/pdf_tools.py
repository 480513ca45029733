"""poppler-utils on a PDF in memory: its text (pdftotext) and its font table (pdffonts)."""

import shutil
import subprocess
import tempfile
from pathlib import Path


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    assert path, f"{tool} (poppler-utils) is needed for the PDF tests"
    return path


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(  # noqa: S603 - a fixed poppler tool on our own bytes
        [_poppler("pdftotext"), "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def pdf_fonts(pdf: bytes) -> list[str]:
    """The rows of pdffonts' table (it cannot read stdin, hence the file)."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "document.pdf"
        path.write_bytes(pdf)
        listing = subprocess.run(  # noqa: S603 - see above
            [_poppler("pdffonts"), str(path)], capture_output=True, check=True
        ).stdout.decode()
    return listing.splitlines()[2:]
