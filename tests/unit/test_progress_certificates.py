"""Certificates: one per completed course, names kept as printed, a PDF with a QR code to the public check."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app import App
from progress.certificate_pdf import certificate_pdf, verify_url
from progress.certificates import (
    CODE_ALPHABET,
    find_certificate,
    issue_certificate,
    learner_name,
    new_code,
    normalize_code,
)
from progress.models import Certificate, User


def test_codes_are_unambiguous_and_forgiving_when_typed() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(rf"[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}", c) for c in codes)
    assert normalize_code(" 0abcd-efghk ") == "0ABCD-EFGHK"
    assert normalize_code("oabcdefghl") == "0ABCD-EFGH1"
    assert verify_url("https://m.ma/", "0ABCD-EFGHK") == "https://m.ma/verify/0ABCD-EFGHK"


def test_a_certificate_is_issued_once_with_the_names_of_the_day(app: App) -> None:
    course = app.library.courses["zellige"]
    with app.sessions() as session:
        learner = User(display_name="فاطمة الزهراء", cooperative_code="FES-ZEL-01", region_code="fes-meknes")
        session.add(learner)
        session.flush()
        first = issue_certificate(session, app.library, learner, course)
        again = issue_certificate(session, app.library, learner, course)
        session.commit()
        assert first is again
        assert first.learner_name == "فاطمة الزهراء"
        assert first.cooperative_name == "Coopérative Zellige et Poterie de Fès (sample)"
        assert first.course_title == "Le zellige de Fès : taille, couleurs et pose"
        learner.display_name = "Fatima Zahra"  # later renamed: the certificate keeps what it printed
        session.commit()
        assert find_certificate(session, first.code.lower()) is first
        assert session.scalar(select(Certificate.learner_name)) == "فاطمة الزهراء"
        nameless = User(display_name=" ")
        session.add(nameless)
        session.flush()
        assert learner_name(nameless) == ""  # never "#<id>": award_if_earned holds it until a name is given


def test_the_pdf_carries_the_verification_link_and_is_written_once(app: App) -> None:
    course = app.library.courses["tadelakt"]
    with app.sessions() as session:
        learner = User(display_name="ⵜⴰⵍⵍⵉ Tali")
        session.add(learner)
        session.flush()
        certificate = issue_certificate(session, app.library, learner, course)
        session.commit()
    folder = app.settings.data_dir / "certificates"
    path = certificate_pdf(
        certificate, folder, base_url="https://maalem.example.ma", catalog=app.catalog, library=app.library
    )
    data = path.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000  # fonts and QR code embedded
    assert f"https://maalem.example.ma/verify/{certificate.code}".encode() in data
    assert path == folder / str(certificate.user_id) / f"{certificate.code}.pdf"
    mtime = path.stat().st_mtime_ns
    assert (
        certificate_pdf(certificate, folder, base_url="x", catalog=app.catalog, library=app.library) == path
    )
    assert path.stat().st_mtime_ns == mtime
    assert not list(folder.rglob("*.part"))
