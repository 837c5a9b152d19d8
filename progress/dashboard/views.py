"""The trainers' dashboard: login, overview, learners, one learner's record, the review queue, CSV export.

Server-rendered (Jinja2), no script, in the trainer's language (French, Arabic right to left, and the others
of the catalogue). A trainer sees only their region or cooperative: anything else is "not found", whatever
the URL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response, StreamingResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from lessons.content import Library
from lessons.course import Course, Step
from lessons.i18n import LANGUAGE_NAMES, without_bidi_marks
from lessons.languages import RTL, Lang, pick
from progress.accounts import authenticate, end_sessions
from progress.certificate_pdf import certificate_pdf
from progress.certificates import find_certificate
from progress.dashboard.auth import Sessions, WebSession
from progress.dashboard.charts import ActivityLabels, activity_chart, funnel_chart
from progress.dashboard.deps import MAX_ID, DashboardDeps
from progress.dashboard.errors import error_message, error_pages
from progress.dashboard.export import csv_lines
from progress.grading import grade_answer
from progress.models import Answer, Certificate, ReviewItem, ReviewStatus, Role, User, utcnow
from progress.questions import waiting
from progress.record import learner_record
from progress.reports import activity, funnels, iter_learners, learners_page, overview
from progress.rules import Status, learner_status, zone
from progress.scope import Filters, Scope, find_learner
from progress.secret_key import secret_key
from progress.timeline import timeline
from speech.audio import media_type

HERE = Path(__file__).resolve().parent
PREFIX = "/dashboard"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CSV_COLUMNS = (
    "col_id",
    "col_name",
    "language",
    "filter_region",
    "filter_cooperative",
    "col_course",
    "col_steps_done",
    "col_last_active",
    "col_minor",
    "col_consent",
    "col_certificates",
    "filter_status",
)
"""The export's columns, by their catalogue keys (after `dash.`): headers in the trainer's language."""
NameQuery = Annotated[str, Query(max_length=100)]
"""A search by part of a learner's name."""


@dataclass(frozen=True)
class Viewer:
    """The trainer looking at the dashboard."""

    session: WebSession
    user: User
    scope: Scope


class Labels:
    """Names of content (courses, steps, key points, places) in the dashboard's language."""

    def __init__(self, library: Library, lang: Lang) -> None:
        self.library = library
        self.lang = lang

    def _text(self, texts: dict[Lang, str]) -> str:
        return pick(texts, self.lang)[0]

    def course(self, course_id: str | None) -> str:
        """A course's title."""
        course = self.library.courses.get(course_id or "")
        return self._text(dict(course.title)) if course else (course_id or "—")

    def _step(self, course_id: str, lesson_id: str, step_id: str) -> tuple[Course, int, int, Step] | None:
        course = self.library.courses.get(course_id)
        if course is None:
            return None
        for li, lesson in enumerate(course.lessons):
            for si, step in enumerate(lesson.steps):
                if lesson.id == lesson_id and step.id == step_id:
                    return course, li, si, step
        return None

    def lesson(self, course_id: str, lesson_id: str) -> str:
        """A lesson's title."""
        course = self.library.courses.get(course_id)
        found = next((les for les in course.lessons if les.id == lesson_id), None) if course else None
        return self._text(dict(found.title)) if found else lesson_id

    def step(self, course_id: str | None, lesson_id: str | None, step_id: str | None) -> str:
        """`lesson title · n` for a step."""
        found = self._step(course_id or "", lesson_id or "", step_id or "")
        if found is None:
            return f"{lesson_id}/{step_id}"
        course, li, si, _ = found
        return f"{self._text(dict(course.lessons[li].title))} · {si + 1}"

    def short_steps(self, course: Course) -> list[str]:
        """`L1·3`-style labels for every step of a course, in order."""
        return [
            f"{li + 1}·{si + 1}"
            for li, lesson in enumerate(course.lessons)
            for si, _ in enumerate(lesson.steps)
        ]

    def question(self, course_id: str, lesson_id: str, step_id: str) -> str:
        """A checkpoint's question, or nothing."""
        found = self._step(course_id, lesson_id, step_id)
        if found is None or found[3].checkpoint is None:
            return ""
        return self._text(dict(found[3].checkpoint.question))

    def key_point(self, course_id: str, lesson_id: str, step_id: str, key: str) -> str:
        """A key point's first phrasing."""
        found = self._step(course_id, lesson_id, step_id)
        checkpoint = found[3].checkpoint if found else None
        point = next((k for k in checkpoint.key_points if k.id == key), None) if checkpoint else None
        return self._text({lang: items[0] for lang, items in point.phrasings.items()}) if point else key

    def region(self, code: str | None) -> str:
        """A region's name."""
        region = self.library.regions.get(code or "")
        return self._text(dict(region.name)) if region else (code or "—")

    def cooperative(self, code: str | None) -> str:
        """A cooperative's name."""
        coop = self.library.cooperatives.get(code or "")
        return coop.name if coop else (code or "—")


class Dashboard:
    """Routes and rendering of the dashboard over one app."""

    def __init__(self, deps: DashboardDeps) -> None:
        self.deps = deps
        self.sessions = Sessions(secret_key(deps.secret_key, deps.data_dir))
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined
        )
        self.tz = zone(deps.timezone)

    # ---------------------------------------------------------------- plumbing

    def render(
        self,
        request: Request,
        session: WebSession,
        template: str,
        *,
        status: int = 200,
        viewer: Viewer | None = None,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """A page in the session's language, with the session cookie refreshed and security headers."""
        lang = Lang(session.lang)

        def t(key: str, **params: str | int) -> str:
            return self.deps.catalog.t(lang, key, params)

        html = self.env.get_template(template).render(
            t=t,
            lang=lang.value,
            rtl=lang in RTL,
            csrf=session.csrf,
            viewer=viewer,
            public_url_missing=self.deps.public_url_missing,
            labels=Labels(self.deps.library, lang),
            languages=LANGUAGE_NAMES,
            path=request.url.path,
            when=self.when,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers={**SECURITY_HEADERS, **(headers or {})})
        self.sessions.save(response, session, request)
        return response

    def error_page(self, request: Request, status: int, headers: Mapping[str, str] | None) -> HTMLResponse:
        """An error as a page in the visitor's language, with a way back."""
        session = self.sessions.load(request)
        message = error_message(status)
        return self.render(
            request, session, "error.html", status=status, headers=dict(headers or {}), message=message
        )

    def when(self, moment: datetime | None) -> str:
        """A moment in the server's local time."""
        return f"{moment.astimezone(self.tz):%d/%m/%Y %H:%M}" if moment else "—"

    def viewer(self, request: Request, db: Session) -> Viewer:
        """The logged-in trainer, or a redirect to the login page."""
        session = self.sessions.load(request)
        user = db.get(User, session.user_id) if session.user_id else None
        if (
            user is None
            or user.role not in {Role.TRAINER, Role.ADMIN}
            or not session.current(user.session_generation)
        ):
            raise HTTPException(303, headers={"Location": f"{PREFIX}/login"})
        return Viewer(session, user, Scope.of(user, self.deps.library))

    def filters(
        self, viewer: Viewer, region: str, cooperative: str, course: str, status: str, *, name: str = ""
    ) -> Filters:
        """Filters from the query string; one outside the trainer's scope is not found."""
        library = self.deps.library
        if not viewer.scope.allows(region=region or None, cooperative=cooperative or None, library=library):
            raise HTTPException(404)
        if (course and course not in library.courses) or (status and status not in set(Status)):
            raise HTTPException(404)
        return Filters(
            region or None,
            cooperative or None,
            course or None,
            Status(status) if status else None,
            name.strip() or None,
        )

    def options(self, viewer: Viewer) -> dict[str, list[tuple[str, str]]]:
        """The choices of the filter form, limited to the trainer's scope."""
        library, scope = self.deps.library, viewer.scope
        labels = Labels(library, Lang(viewer.session.lang))
        regions = [r for r in library.regions if scope.allows(region=r, cooperative=None, library=library)]
        coops = [c for c in library.cooperatives if scope.allows(region=None, cooperative=c, library=library)]
        return {
            "region": [(code, labels.region(code)) for code in regions],
            "cooperative": [(code, labels.cooperative(code)) for code in coops],
            "course": [(c, labels.course(c)) for c in library.courses],
            "status": [(s.value, s.value) for s in Status],
        }

    # ---------------------------------------------------------------- routes

    def router(self) -> APIRouter:
        """The dashboard's routes, and the public certificate check."""
        router = APIRouter(route_class=error_pages(self.error_page))
        router.add_api_route(f"{PREFIX}/static/style.css", self.style, methods=["GET"])
        router.add_api_route(f"{PREFIX}/login", self.login_page, methods=["GET"])
        router.add_api_route(f"{PREFIX}/login", self.login, methods=["POST"])
        router.add_api_route(f"{PREFIX}/logout", self.logout, methods=["POST"])
        router.add_api_route(f"{PREFIX}/lang/{{code}}", self.switch_lang, methods=["GET"])
        router.add_api_route(f"{PREFIX}/", self.overview, methods=["GET"])
        router.add_api_route(f"{PREFIX}/learners", self.learners, methods=["GET"])
        router.add_api_route(f"{PREFIX}/learners.csv", self.learners_csv, methods=["GET"])
        router.add_api_route(f"{PREFIX}/learners/{{user_id:id}}", self.learner, methods=["GET"])
        router.add_api_route(f"{PREFIX}/audio/{{answer_id:id}}", self.audio, methods=["GET"])
        router.add_api_route(f"{PREFIX}/certificates/{{code}}.pdf", self.certificate, methods=["GET"])
        router.add_api_route(f"{PREFIX}/reviews", self.reviews, methods=["GET"])
        router.add_api_route(f"{PREFIX}/reviews/{{item_id:id}}", self.review, methods=["GET"])
        router.add_api_route(f"{PREFIX}/reviews/{{item_id:id}}", self.decide, methods=["POST"])
        router.add_api_route("/verify/{code}", self.verify, methods=["GET"])
        return router

    def style(self) -> Response:
        """The one stylesheet."""
        css = (HERE / "static" / "style.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    def login_page(self, request: Request) -> HTMLResponse:
        """The login form."""
        return self.render(request, self.sessions.load(request), "login.html", error=None)

    def login(
        self,
        request: Request,
        login: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        """Check the credentials; on success a fresh session and the overview.

        A login or an address with too many recent failures is refused (429) without checking the password,
        and so is any login while all the password-check slots are taken (503): both say when to retry.
        """
        session = self.sessions.load(request)
        if not session.csrf_ok(csrf):
            return self.render(request, session, "login.html", status=403, error="dash.csrf_failed")
        throttle = self.deps.login_throttle
        address = request.client.host if request.client else ""
        if wait := throttle.retry_after(login, address):
            return self.render(
                request,
                session,
                "login.html",
                status=429,
                error="dash.login_throttled",
                headers={"Retry-After": str(wait)},
            )
        with throttle.slot() as free:
            if not free:
                return self.render(
                    request,
                    session,
                    "login.html",
                    status=503,
                    error="dash.login_busy",
                    headers={"Retry-After": "1"},
                )
            with self.deps.sessions() as db:
                user = authenticate(db, login, password)
                db.commit()
        if user is None:
            throttle.failed(login, address)
            return self.render(request, session, "login.html", status=401, error="dash.login_failed")
        throttle.succeeded(login, address)
        response = RedirectResponse(f"{PREFIX}/", status_code=303)
        self.sessions.save(response, session.login(user.id, user.session_generation), request)
        return response

    def logout(self, request: Request, csrf: Annotated[str, Form()] = "") -> Response:
        """End the session: this cookie and every copy of it (the account's session generation moves on)."""
        session = self.sessions.load(request)
        if not session.csrf_ok(csrf):
            raise HTTPException(403)
        with self.deps.sessions() as db:
            user = db.get(User, session.user_id) if session.user_id else None
            if user is not None and session.current(user.session_generation):
                end_sessions(user)
                db.commit()
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        self.sessions.save(response, WebSession(lang=session.lang), request)
        return response

    def switch_lang(self, request: Request, code: str, next: str = f"{PREFIX}/") -> Response:
        """Change the dashboard's language and go back where the trainer was."""
        if code not in set(Lang):
            raise HTTPException(404)
        target = next if next.startswith((f"{PREFIX}/", "/verify/")) else f"{PREFIX}/"
        response = RedirectResponse(target, status_code=303)
        self.sessions.save(response, self.sessions.load(request).with_lang(Lang(code)), request)
        return response

    def overview(self, request: Request) -> HTMLResponse:
        """Headline numbers, activity over 30 days, a funnel per course, and who is at risk."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            lang = Lang(viewer.session.lang)
            labels = Labels(self.deps.library, lang)
            catalog = self.deps.catalog
            numbers = overview(db, viewer.scope, now)
            days = activity(db, viewer.scope, now, self.tz)
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
        return self.render(
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

    def learners(
        self,
        request: Request,
        *,
        region: str = "",
        cooperative: str = "",
        course: str = "",
        status: str = "",
        name: NameQuery = "",
        before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    ) -> HTMLResponse:
        """The learners list, filtered, newest first, one keyset page at a time."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            filters = self.filters(viewer, region, cooperative, course, status, name=name)
            rows, next_before = learners_page(db, viewer.scope, filters, now, before=before)
        query = {
            "name": name,
            "region": region,
            "cooperative": cooperative,
            "course": course,
            "status": status,
        }
        return self.render(
            request,
            viewer.session,
            "learners.html",
            viewer=viewer,
            rows=rows,
            next_before=next_before,
            first_page=before is not None,
            query={k: v for k, v in query.items() if v},
            options=self.options(viewer),
            nav="learners",
        )

    def learners_csv(
        self,
        request: Request,
        *,
        region: str = "",
        cooperative: str = "",
        course: str = "",
        status: str = "",
        name: NameQuery = "",
    ) -> StreamingResponse:
        """The filtered learners list as CSV, streamed (however many there are)."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            filters = self.filters(viewer, region, cooperative, course, status, name=name)
        lang = Lang(viewer.session.lang)
        labels = Labels(self.deps.library, lang)

        def t(key: str) -> str:
            return without_bidi_marks(self.deps.catalog.t(lang, key))

        header = [t(f"dash.{key}") for key in CSV_COLUMNS]
        yes, no = t("dash.yes"), t("dash.no")

        def rows() -> Iterator[list[object]]:
            with self.deps.sessions() as db:
                for row in iter_learners(db, viewer.scope, filters, now):
                    yield [
                        row.id,
                        row.name,
                        next((name for code, name in LANGUAGE_NAMES.items() if code == row.language), ""),
                        labels.region(row.region),
                        labels.cooperative(row.cooperative),
                        labels.course(row.course),
                        row.steps_done,
                        self.when(row.last_active_at),
                        "" if row.minor is None else yes if row.minor else no,
                        t(f"dash.consent_{row.consent}"),
                        " ".join(row.certificates),
                        t(f"dash.status_{row.status}"),
                    ]

        return StreamingResponse(
            csv_lines(header, rows()),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="maalem-learners.csv"', **SECURITY_HEADERS},
        )

    def learner(self, request: Request, user_id: int) -> HTMLResponse:
        """One learner: profile, streak, badges, courses, mastery, certificates, and their timeline."""
        now = utcnow()
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            learner = find_learner(db, viewer.scope, user_id)
            if learner is None:
                raise HTTPException(404)
            record = learner_record(db, self.deps.library, learner, now)
            events = timeline(db, learner.id)
            standing = learner_status(
                learner.last_active_at,
                unfinished=any(c.completed_at is None for c in record.courses),
                completed=any(c.completed_at for c in record.courses),
                now=now,
            )
        return self.render(
            request,
            viewer.session,
            "learner.html",
            viewer=viewer,
            learner=learner,
            record=record,
            events=events,
            standing=standing,
            nav="learners",
        )

    def _scoped_answer(self, db: Session, viewer: Viewer, answer_id: int) -> Answer:
        answer = db.scalar(
            select(Answer)
            .join(User, User.id == Answer.user_id)
            .where(Answer.id == answer_id, viewer.scope.where())
        )
        if answer is None:
            raise HTTPException(404)
        return answer

    def audio(self, request: Request, answer_id: int) -> FileResponse:
        """A learner's voice answer, for trainers who may see that learner (range requests work)."""
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            answer = self._scoped_answer(db, viewer, answer_id)
        if not answer.audio_path:
            raise HTTPException(404)
        path = Path(answer.audio_path).resolve()
        if not path.is_relative_to(self.deps.data_dir.resolve()) or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=media_type(path), headers={"Cache-Control": "no-store"})

    def certificate(self, request: Request, code: str) -> FileResponse:
        """A learner's certificate as PDF, for trainers who may see that learner."""
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
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

    def reviews(
        self, request: Request, after: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None
    ) -> HTMLResponse:
        """Answers waiting for a person, oldest first."""
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            query = (
                select(ReviewItem, Answer, User)
                .join(Answer, Answer.id == ReviewItem.answer_id)
                .join(User, User.id == Answer.user_id)
                .where(
                    ReviewItem.status == ReviewStatus.OPEN, viewer.scope.where(), ReviewItem.id > (after or 0)
                )
                .order_by(ReviewItem.id)
                .limit(51)
            )
            items = db.execute(query).tuples().all()
        more = len(items) > 50
        items = items[:50]
        return self.render(
            request,
            viewer.session,
            "reviews.html",
            viewer=viewer,
            items=items,
            next_after=items[-1][0].id if more else None,
            first_page=after is not None,
            done=request.query_params.get("done"),
            nav="reviews",
        )

    def _scoped_review(self, db: Session, viewer: Viewer, item_id: int) -> tuple[ReviewItem, Answer, User]:
        found = (
            db.execute(
                select(ReviewItem, Answer, User)
                .join(Answer, Answer.id == ReviewItem.answer_id)
                .join(User, User.id == Answer.user_id)
                .where(ReviewItem.id == item_id, viewer.scope.where())
            )
            .tuples()
            .first()
        )
        if found is None:
            raise HTTPException(404)
        return found

    def review(self, request: Request, item_id: int) -> HTMLResponse:
        """One answer to decide: listen, read the transcript and the AI's verdict per key point."""
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            item, answer, learner = self._scoped_review(db, viewer, item_id)
        return self.render(
            request,
            viewer.session,
            "review.html",
            viewer=viewer,
            item=item,
            answer=answer,
            learner=learner,
            error=None,
            nav="reviews",
        )

    def decide(
        self,
        request: Request,
        item_id: int,
        csrf: Annotated[str, Form()] = "",
        decision: Annotated[str, Form()] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
    ) -> Response:
        """Accept the AI's verdict or override it with a reason; the learner is told in their language."""
        with self.deps.sessions() as db:
            viewer = self.viewer(request, db)
            item, answer, learner = self._scoped_review(db, viewer, item_id)
            error, code = None, 200
            if not viewer.session.csrf_ok(csrf):
                error, code = "dash.csrf_failed", 403
            elif decision not in {"accept", "override"}:
                error, code = "dash.review_choose", 400
            elif decision == "override" and not note.strip():
                error, code = "dash.review_reason_required", 400
            if error:
                return self.render(
                    request,
                    viewer.session,
                    "review.html",
                    status=code,
                    viewer=viewer,
                    item=item,
                    answer=answer,
                    learner=learner,
                    error=error,
                    nav="reviews",
                )
            ai_passed = answer.machine_passed
            passed = ai_passed if decision == "accept" else not ai_passed
            graded = grade_answer(
                db, self.deps.library, self.deps.notifier, answer, passed=passed, by=viewer.user, note=note
            )
            if graded is None:
                return RedirectResponse(f"{PREFIX}/reviews?done=already", status_code=303)
            db.commit()
        return RedirectResponse(
            f"{PREFIX}/reviews?done=1", status_code=303, background=BackgroundTask(self.deps.nudge)
        )

    def verify(self, request: Request, code: str) -> HTMLResponse:
        """Public: whether a certificate with this code exists, and what it certifies."""
        with self.deps.sessions() as db:
            found: Certificate | None = find_certificate(db, code)
        return self.render(
            request,
            self.sessions.load(request),
            "verify.html",
            status=200 if found else 404,
            certificate=found,
            code=code[:32],
        )
