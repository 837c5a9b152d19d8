"""The trainers' web dashboard, mounted on the shared web app."""

from fastapi import APIRouter

from progress.dashboard.account import add_account_routes
from progress.dashboard.certificates import add_certificate_routes
from progress.dashboard.deps import DashboardDeps
from progress.dashboard.errors import error_pages, missing
from progress.dashboard.learners import add_learner_routes
from progress.dashboard.lessons import add_lesson_routes
from progress.dashboard.overview import add_overview_routes
from progress.dashboard.pages import PREFIX, Dashboard
from progress.dashboard.questions import add_question_routes
from progress.dashboard.reviews import add_review_routes

__all__ = ["dashboard_router"]


def dashboard_router(deps: DashboardDeps) -> APIRouter:
    """The dashboard's routes with the masters' lessons waiting for approval and the learners' questions, and
    the public certificate check, for the shared web app."""
    dashboard = Dashboard(deps)
    router = APIRouter(route_class=error_pages(dashboard.error_page))
    for add_routes in (
        add_account_routes,
        add_overview_routes,
        add_learner_routes,
        add_certificate_routes,
        add_review_routes,
        add_lesson_routes,
        add_question_routes,
    ):
        add_routes(dashboard, router)
    # Last, so that it only answers addresses no other route takes.
    router.add_api_route(f"{PREFIX}/{{path:path}}", missing, methods=["GET"])
    return router
