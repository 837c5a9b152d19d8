"""The trainers' web dashboard, mounted on the shared web app."""

from fastapi import APIRouter

from progress.dashboard.deps import DashboardDeps
from progress.dashboard.errors import missing
from progress.dashboard.lessons import add_lesson_routes
from progress.dashboard.questions import add_question_routes
from progress.dashboard.views import PREFIX, Dashboard

__all__ = ["dashboard_router"]


def dashboard_router(deps: DashboardDeps) -> APIRouter:
    """The dashboard's routes with the masters' lessons waiting for approval and the learners' questions, for
    the shared web app."""
    dashboard = Dashboard(deps)
    router = dashboard.router()
    add_lesson_routes(dashboard, router)
    add_question_routes(dashboard, router)
    # Last, so that it only answers addresses no other route takes.
    router.add_api_route(f"{PREFIX}/{{path:path}}", missing, methods=["GET"])
    return router
