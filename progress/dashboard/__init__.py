"""The trainers' web dashboard, mounted on the shared web app."""

from progress.dashboard.views import dashboard_router

__all__ = ["dashboard_router"]
