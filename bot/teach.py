"""Masters in the chat: linking an invitation, recording a lesson by video and voice, hearing apprentices.

The conversation itself is `lessons.teach` (pure); this flow feeds it saved files and transcripts, answers its
requests for drafts, keeps its state in the database and turns its replies into messages. Slow work (download,
transcription, drafting) is asked for with `Pending`, like the learner's journey does.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from bot.service import VOICE_KINDS, Pending
from lessons.content import ContentInvalid
from lessons.drafting import CheckpointDraft, Drafter, KeyPhraseDrafter
from lessons.languages import Lang, pick
from lessons.messages import IncomingMedia
from lessons.packs import Shelf
from lessons.teach import (
    DraftCheckpoint,
    Drafted,
    Open,
    Pressed,
    Returned,
    Shown,
    Spoken,
    StepMedia,
    Submit,
    Teacher,
    TeachEvent,
    TeachState,
    TeachTurn,
    Typed,
)
from lessons.tutor import Button, Msg, Reply
from progress.authoring import (
    AUTHORS,
    INVITE_CODE,
    ensure_profile,
    find_invite,
    latest_answers,
    localized,
    may_hear,
    own_courses,
    redeem_invite,
    submit_lesson,
    teach_session,
)
from progress.grading import grade_answer
from progress.models import Answer, TeachSession, User, utcnow
from progress.notify import language_of

if TYPE_CHECKING:
    from bot.service import Context, Service

log = logging.getLogger(__name__)

TEACH_COMMANDS = frozenset({"teach", "answers"})
ANSWERS_SHOWN = 5
_GRADES = {True: "answers.grade_passed", False: "answers.grade_not_yet", None: "answers.grade_pending"}
_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u2066\u2067\u2068\u2069"))


def _command(ctx: Context) -> tuple[str | None, str]:
    """The command a text is (`/start@bot CODE` → ("start", "CODE")), else None."""
    text = ctx.message.text.strip()
    if ctx.message.kind != "text" or not text.startswith("/") or len(text) < 2:
        return None, ""
    name, _, arg = text[1:].partition(" ")
    return name.split("@")[0].lower(), arg.strip()


def _name(learner: User | None, answer: Answer) -> str:
    """How a master sees an apprentice: their name, else their number."""
    return (learner.display_name if learner else "") or f"#{answer.user_id}"


def _step_media(media: IncomingMedia) -> StepMedia | None:
    """Whether a file can show a step: videos (round ones too) and photos, also when sent as documents."""
    mime = media.mime or ""
    if media.kind in {"video", "video_note"} or (media.kind == "document" and mime.startswith("video/")):
        return "video"
    if media.kind == "photo" or (media.kind == "document" and mime.startswith("image/")):
        return "photo"
    return None


class TeachFlow:
    """Takes masters' messages when they link an invitation, teach, or answer an apprentice."""

    def __init__(self, shelf: Shelf, drafter: Drafter, *, silence: timedelta = timedelta(hours=1)) -> None:
        self.shelf = shelf
        self.drafter = drafter
        self.silence = silence
        """After this long without a word, a master coming back is first told where the lesson stands."""

    def wants(self, service: Service, ctx: Context) -> bool:
        """Invitation codes, /teach and /answers, their buttons, and whatever a master sends mid-recording."""
        self.shelf.refresh(service.library)  # a trainer may have published from another process
        message, text = ctx.message, ctx.message.text.strip()
        command, arg = _command(ctx)
        if command == "start":
            return bool(INVITE_CODE.match(arg.upper()))
        if command in TEACH_COMMANDS:
            return True
        if message.kind == "button":
            return text.startswith(("teach:", "answers:"))
        if message.kind == "text" and INVITE_CODE.match(text.upper()) and find_invite(ctx.session, text):
            return True
        if command is not None or ctx.user.role not in AUTHORS:
            return False
        row = ctx.session.get(TeachSession, ctx.user.id)
        return row is not None and (row.state is not None or row.replying_to is not None)

    def handle(self, service: Service, ctx: Context) -> None:
        """Route the message to linking, listening to answers, replying, or the recording."""
        command, arg = _command(ctx)
        message, text = ctx.message, ctx.message.text.strip()
        if command == "start" or (
            message.kind == "text" and command is None and find_invite(ctx.session, text)
        ):
            self._link(service, ctx, arg or text)
            return
        if ctx.user.role not in AUTHORS:
            service.say(ctx, "teach.not_master")
            return
        row = teach_session(ctx.session, ctx.user.id)
        data = message.text.strip() if message.kind == "button" else ""
        if command == "answers":
            row.replying_to = None
            self._list_answers(service, ctx)
        elif data.startswith("answers:"):
            self._on_answer(service, ctx, row, data)
        elif row.replying_to is not None and command is None and message.kind != "button":
            self._reply(service, ctx, row)
        else:
            row.replying_to = None
            self._teach(service, ctx, row)

    # -- linking ---------------------------------------------------------------------------------------------

    def _link(self, service: Service, ctx: Context, code: str) -> None:
        profile = find_invite(ctx.session, code)
        if profile is None:
            if ctx.user.language is None:
                ctx.user.language = service.default_language.value
            service.say(ctx, "teach.invite_invalid")
            return
        redeem_invite(ctx.session, profile, ctx.user)
        service.say(ctx, "teach.welcome_master", {"name": profile.name})

    # -- recording -------------------------------------------------------------------------------------------

    def _teach(self, service: Service, ctx: Context, row: TeachSession) -> None:
        user, session = ctx.user, ctx.session
        profile = ensure_profile(session, user)
        state = TeachState.from_json(row.state) if row.state else None
        event = self._event(service, ctx)
        if event is None:
            return
        lang = ctx.lang
        teacher = Teacher(
            courses={c.id: pick(localized(c.title), lang)[0] for c in own_courses(session, profile)},
            crafts={c.code: pick(dict(c.name), lang)[0] for c in service.library.crafts.values()},
            now=utcnow(),
            licence=profile.licence,
            consent=profile.consented_at.isoformat() if profile.consented_at else None,
        )
        replies: list[Reply] = []
        if state is not None and not isinstance(event, Open) and utcnow() - row.updated_at > self.silence:
            replies += teacher.advance(state, Returned()).replies
        turn = teacher.advance(state, event)
        replies += turn.replies
        for effect in turn.effects:
            if isinstance(effect, DraftCheckpoint):
                turn = teacher.advance(turn.state, self._drafted(service, ctx, effect.text))
                replies += turn.replies
        submitted = next((e for e in turn.effects if isinstance(e, Submit)), None)
        if submitted is not None:
            try:
                submit_lesson(
                    session,
                    profile=profile,
                    state=submitted.state,
                    lang=lang,
                    files=service.data_dir / "authoring",
                    library=service.library,
                    hint=lambda point: self._plain(service, lang, "draft.hint", {"point": point}),
                )
            except ContentInvalid as exc:
                log.warning("a recorded lesson does not pass the content checks: %s", exc)
                turn = TeachTurn(submitted.state)
                replies = [Reply(Msg("teach.invalid")), *teacher.prompt(submitted.state)]
        if turn.state is not None and turn.state.licence and profile.licence != turn.state.licence:
            profile.licence = turn.state.licence
            profile.consented_at = utcnow()
        row.state = turn.state.to_json() if turn.state else None
        row.updated_at = utcnow()
        for reply in replies:
            choices = tuple(service.choice(lang, b) for b in reply.buttons)
            meta = {"speak": "1"} if reply.speak else {}
            service.say(ctx, reply.text.key, reply.text.params, choices, meta=meta)

    def _event(self, service: Service, ctx: Context) -> TeachEvent | None:
        """The message as the teaching conversation sees it; None when it was answered already (an error)."""
        message = ctx.message
        command, _ = _command(ctx)
        if command == "teach":
            return Open()
        if message.kind == "button":
            return Pressed(message.text.strip())
        media = message.media
        if media is None:
            text = message.text.strip()
            if message.kind == "unsupported" or not text:
                service.say(ctx, "input.unsupported" if message.kind == "unsupported" else "input.empty")
                return None
            if len(text) > service.max_text_chars:
                service.say(ctx, "input.too_long", {"limit": service.max_text_chars})
                return None
            return Typed(text)
        kind = _step_media(media)
        if kind is None and media.kind not in VOICE_KINDS:
            service.say(ctx, "media.unsupported")
            return None
        if kind is None and service.transcriber is None:
            service.say(ctx, "teach.no_transcriber")
            return None
        path = service._fetch(ctx)
        if path is None:
            return None
        if kind is not None:
            return Shown(kind, str(path))
        transcript = service._transcribe(ctx, path)
        if transcript is None:
            return None
        if not transcript.text.strip():
            service.say(ctx, "teach.not_heard")
            return None
        return Spoken(transcript.text.strip(), str(path), sure=not transcript.low_confidence)

    def _drafted(self, service: Service, ctx: Context, explanation: str) -> Drafted:
        """A checkpoint drafted from the master's words (slow: asked for with `Pending`), never failing."""
        key = f"draft:{ctx.inbound_id}"
        lang = ctx.lang
        if key not in ctx.work:
            drafter = self.drafter
            draft_now = partial(asyncio.to_thread, drafter.checkpoint, explanation, lang)
            raise Pending(key, draft_now, durable=False)  # in-process work, like grading
        draft = ctx.work[key]
        if not isinstance(draft, CheckpointDraft):
            log.warning("drafting failed (%r); key phrases instead", draft)
            draft = KeyPhraseDrafter().checkpoint(explanation, lang)
        question = draft.question or self._plain(service, lang, "draft.question")
        return Drafted(question, draft.points, draft.drafted_by)

    @staticmethod
    def _plain(service: Service, lang: Lang, key: str, params: dict[str, str | int] | None = None) -> str:
        """A catalogue text as course content: without the direction marks added for chat display."""
        return service.catalog.t(lang, key, params).translate(_MARKS).strip()

    # -- hearing apprentices ---------------------------------------------------------------------------------

    def _describe(self, service: Service, answer: Answer, lang: Lang) -> dict[str, str | int]:
        """What an answer was about, in `lang`: the question, the lesson and the step number."""
        course = service.library.courses.get(answer.course_id)
        params: dict[str, str | int] = {"question": "", "lesson": answer.lesson_id, "n": 0}
        if course is None:
            return params
        lesson = next((x for x in course.lessons if x.id == answer.lesson_id), None)
        if lesson is None:
            return params
        params["lesson"] = pick(dict(lesson.title), lang)[0]
        for n, step in enumerate(lesson.steps, 1):
            if step.id == answer.step_id:
                params["n"] = n
                params["question"] = pick(dict(step.checkpoint.question), lang)[0] if step.checkpoint else ""
        return params

    def _list_answers(self, service: Service, ctx: Context) -> None:
        answers = latest_answers(ctx.session, service.library, ctx.user.author_id or "", ANSWERS_SHOWN)
        if not answers:
            service.say(ctx, "answers.none")
            return
        lang = ctx.lang
        for answer in answers:
            learner = ctx.session.get(User, answer.user_id)
            grade = _GRADES[answer.passed]
            params = {
                **self._describe(service, answer, lang),
                "learner": _name(learner, answer),
                "answer": answer.transcript or answer.text or "…",
                "grade": service.catalog.t(lang, grade),
            }
            choices = tuple(
                service.choice(lang, Button(Msg(f"button.answers_{action}"), f"answers:{action}:{answer.id}"))
                for action in ("reply", "pass", "fail")
            )
            audio = answer.audio_path
            service.say(
                ctx, "answers.item", params, choices, voice=audio if audio and Path(audio).is_file() else None
            )

    def _on_answer(self, service: Service, ctx: Context, row: TeachSession, data: str) -> None:
        _, action, raw = [*data.split(":"), "", ""][:3]
        answer = ctx.session.get(Answer, int(raw)) if raw.isdigit() else None
        if answer is None or action not in {"reply", "pass", "fail"}:
            service.say(ctx, "answers.gone")
            return
        if not may_hear(ctx.user, answer, service.library):
            service.say(ctx, "answers.gone")
            return
        learner = ctx.session.get(User, answer.user_id)
        name = _name(learner, answer)
        if action == "reply":
            row.replying_to = answer.id
            service.say(ctx, "answers.reply_prompt", {"learner": name})
            return
        passed = action == "pass"
        master = ctx.user.display_name
        note = f"master: {master}"
        graded = grade_answer(
            ctx.session, service.library, service.notifier, answer, passed=passed, by=ctx.user, note=note
        )
        if graded is None:
            service.say(ctx, "answers.already_decided")
            return
        mine = service.catalog.t(ctx.lang, "answers.grade_passed" if passed else "answers.grade_not_yet")
        service.say(ctx, "answers.overridden", {"learner": name, "grade": mine})

    def _reply(self, service: Service, ctx: Context, row: TeachSession) -> None:
        answer = ctx.session.get(Answer, row.replying_to)
        if answer is None:
            row.replying_to = None
            service.say(ctx, "answers.gone")
            return
        message = ctx.message
        learner = ctx.session.get(User, answer.user_id)
        learner_lang = language_of(learner, service.default_language)
        params = {**self._describe(service, answer, learner_lang), "master": ctx.user.display_name}
        if message.media is not None and message.media.kind in VOICE_KINDS:
            path = service._fetch(ctx)
            if path is None:
                return
            key, voice = "answers.master_voice", str(path)
        elif message.kind == "text" and message.text.strip():
            params["text"] = message.text.strip()[: service.max_text_chars]
            key, voice = "answers.master_text", None
        else:
            service.say(ctx, "answers.reply_prompt", {"learner": _name(learner, answer)})
            return
        service.notifier.notify(ctx.session, answer.user_id, key, params, kind="master_reply", voice=voice)
        row.replying_to = None
        service.say(ctx, "answers.reply_sent", {"learner": _name(learner, answer)})
