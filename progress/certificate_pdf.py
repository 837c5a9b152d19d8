"""The certificate as a bilingual PDF (French and Arabic) with a QR code to its public check."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from fpdf import FPDF

from lessons.content import Library
from lessons.i18n import Catalog, without_bidi_marks
from lessons.languages import RTL, Lang, pick
from progress.models import Certificate

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
"""DejaVu Sans covers Latin, Arabic and Tifinagh (Debian package fonts-dejavu-core)."""
INK, ACCENT = (33, 37, 41), (17, 94, 89)


class FontMissing(Exception):
    """The fonts the certificate needs are not installed."""


def verify_url(base_url: str, code: str) -> str:
    """The public address that confirms a certificate."""
    return f"{base_url.rstrip('/')}/verify/{code}"


def _font(name: str) -> Path:
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FontMissing(f"{name} not found in {', '.join(map(str, FONT_DIRS))}: install fonts-dejavu-core")


def certificate_pdf(
    certificate: Certificate, folder: Path, *, base_url: str, catalog: Catalog, library: Library
) -> Path:
    """The certificate as a PDF under `folder` (written once, then reused)."""
    path = folder / str(certificate.user_id) / f"{certificate.code}.pdf"
    if path.is_file():
        return path
    course = library.courses.get(certificate.course_id)
    url = verify_url(base_url, certificate.code)
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"Maalem — {certificate.code}")
    pdf.add_page()
    pdf.add_font("body", "", str(_font("DejaVuSans.ttf")))
    pdf.add_font("body", "B", str(_font("DejaVuSans-Bold.ttf")))
    pdf.set_text_shaping(use_shaping_engine=True)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.6)
    pdf.rect(8, 8, 281, 194)
    pdf.set_line_width(0.4)
    pdf.rect(12, 12, 273, 186)
    pdf.set_y(20)

    def line(text: str, size: float, *, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        pdf.set_font("body", "B" if bold else "", size)
        pdf.set_text_color(*color)
        pdf.cell(w=0, h=size * 0.48, text=without_bidi_marks(text), align="C", new_x="LMARGIN", new_y="NEXT")

    def both(
        key: str, size: float, params: dict[str, str | int] | None = None, *, bold: bool = False
    ) -> None:
        for lang in (Lang.FRENCH, Lang.ARABIC):
            values = dict(params or {})
            if course is not None and "course" in values:
                values["course"] = pick(dict(course.title), lang)[0]
            line(catalog.t(lang, key, values), size, bold=bold)

    line("MAALEM", 11, bold=True, color=ACCENT)
    pdf.ln(3)
    both("cert.title", 24, bold=True)
    pdf.ln(4)
    both("cert.attests", 12)
    pdf.ln(2)
    line(certificate.learner_name, 28, bold=True, color=ACCENT)
    pdf.ln(3)
    both("cert.completed", 13, {"course": certificate.course_title})
    pdf.ln(1)
    both("cert.master", 12, {"master": certificate.master_name})
    if certificate.cooperative_name:
        line(certificate.cooperative_name, 12)
    pdf.ln(1)
    both("cert.date", 11, {"date": f"{certificate.issued_at:%d/%m/%Y}"})
    qr = io.BytesIO()
    segno.make(url, error="m").save(qr, kind="png", scale=8, border=2)
    pdf.image(qr, x=242, y=152, w=36, h=36)
    pdf.set_xy(20, 170)
    pdf.set_font("body", "", 9)
    pdf.set_text_color(*INK)
    for lang in (Lang.FRENCH, Lang.ARABIC):
        verify = without_bidi_marks(catalog.t(lang, "cert.verify", {"code": certificate.code}))
        pdf.cell(w=215, h=5, text=verify, align="R" if lang in RTL else "L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_x(20)
    pdf.cell(w=215, h=5, text=url, align="L", link=url)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    pdf.output(str(partial))
    partial.replace(path)
    return path
