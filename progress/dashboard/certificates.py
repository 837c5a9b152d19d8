"""Certificates: the PDF for trainers, and the public check of a certificate's code."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from progress.certificate_pdf import certificate_pdf
from progress.certificates import find_certificate
from progress.dashboard.pages import PREFIX, Dashboard, Pages
from progress.models import Certificate
from progress.scope import find_learner


def add_certificate_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount a certificate's PDF and the public check on the dashboard's router."""
    pages = CertificatePages(dashboard)
    router.add_api_route(f"{PREFIX}/certificates/{{code}}.pdf", pages.certificate, methods=["GET"])
    router.add_api_route("/verify/{code}", pages.verify, methods=["GET"])


class CertificatePages(Pages):
    """A certificate as a trainer downloads it, or as anyone checks it."""

    def certificate(self, request: Request, code: str) -> FileResponse:
        """A learner's certificate as PDF, for trainers who may see that learner."""
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            found = find_certificate(db, code)
            if found is None or find_learner(db, viewer.scope, found.user_id) is None:
                raise HTTPException(404)
        path = certificate_pdf(
            found,
            self.deps.data_dir / "certificates",
            base_url=self.deps.base_url,
            catalog=self.deps.catalog,
            library=self.deps.library,
        )
        return FileResponse(
            path,
            media_type="application/pdf",
            filename=f"maalem-{found.code}.pdf",
            headers={"Cache-Control": "no-store"},
        )

    def verify(self, request: Request, code: str) -> HTMLResponse:
        """Public: whether a certificate with this code exists, and what it certifies."""
        with self.deps.sessions() as db:
            found: Certificate | None = find_certificate(db, code)
        return self.dashboard.render(
            request,
            self.dashboard.sessions.load(request),
            "verify.html",
            status=200 if found else 404,
            certificate=found,
            code=code[:32],
        )
