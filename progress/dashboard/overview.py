"""The dashboard's front page: headline numbers, activity, a funnel per course, who is at risk."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from lessons.languages import Lang
from progress.dashboard.charts import ActivityLabels, activity_chart, funnel_chart
from progress.dashboard.labels import Labels
from progress.dashboard.pages import PREFIX, Dashboard, Pages
from progress.models import utcnow
from progress.questions import waiting
from progress.reports import activity, funnels, learners_page, overview
from progress.rules import Status
from progress.scope import Filters


def add_overview_routes(dashboard: Dashboard, router: APIRouter) -> None:
    """Mount the overview on the dashboard's router."""
    router.add_api_route(f"{PREFIX}/", OverviewPage(dashboard).overview, methods=["GET"])


class OverviewPage(Pages):
    """The overview of the learners the trainer may see."""

    def overview(self, request: Request) -> HTMLResponse:
        """Headline numbers, activity over 30 days, a funnel per course, and who is at risk."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.dashboard.viewer(request, db)
            lang = Lang(viewer.session.lang)
            labels = Labels(self.deps.library, lang)
            catalog = self.deps.catalog
            numbers = overview(db, viewer.scope, now)
            days = activity(db, viewer.scope, now, self.dashboard.tz)
            chart = activity_chart(
                days,
                ActivityLabels(
                    catalog.t(lang, "dash.activity_title"),
                    catalog.t(lang, "dash.series_answers"),
                    catalog.t(lang, "dash.series_steps"),
                ),
            )
            charts = []
            for found in funnels(db, viewer.scope, self.deps.library, now):
                title = catalog.t(lang, "dash.funnel_title", {"course": labels.course(found.course.id)})
                charts.append((title, found, funnel_chart(found, labels.short_steps(found.course), title)))
            at_risk, _ = learners_page(db, viewer.scope, Filters(status=Status.AT_RISK), now, limit=10)
            questions = waiting(db, viewer.scope)
        return self.dashboard.render(
            request,
            viewer.session,
            "overview.html",
            viewer=viewer,
            numbers=numbers,
            chart=chart,
            funnels=charts,
            at_risk=at_risk,
            questions=questions,
            grading=self.deps.grading,
            nav="overview",
        )
