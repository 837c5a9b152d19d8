"""Masters in the chat: linking an invitation, recording a lesson by video and voice, hearing apprentices.

The conversation itself is `lessons.teach` (pure); this flow feeds it saved files and transcripts, answers its
requests for drafts, keeps its state in the database and turns its replies into messages. Slow work (download,
transcription, drafting) is asked for through the turn (`Turn.fetch`, `Turn.slow`), as the journey does.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from functools import partial
from pathlib import Path

from bot.conversation.turn import VOICE_KINDS, Turn
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
from progress.authoring import localized
from progress.grading import grade_answer
from progress.hearing import latest_answers, may_hear
from progress.masters import AUTHORS, INVITE_CODE, ensure_profile, find_invite, redeem_invite
from progress.models import Answer, Question, TeachSession, User, utcnow
from progress.notify import language_of
from progress.questions import open_for, record_answer
from progress.recording import own_courses, submit_lesson, teach_session

log = logging.getLogger(__name__)

TEACH_COMMANDS = frozenset({"teach", "answers"})
ANSWERS_SHOWN = 5
_GRADES = {True: "answers.grade_passed", False: "answers.grade_not_yet", None: "answers.grade_pending"}
_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u2066\u2067\u2068\u2069"))


def _name(learner: User | None, asked: Answer | Question) -> str:
    """How a master sees an apprentice: their name, else their number."""
    return (learner.name if learner else "") or f"#{asked.user_id}"


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

    def wants(self, turn: Turn) -> bool:
        """Invitation codes, /teach and /answers, their buttons, and whatever a master sends mid-recording."""
        self.shelf.refresh(turn.tools.library)  # a trainer may have published from another process
        message, text = turn.message, turn.message.text.strip()
        command, arg = turn.command or (None, "")
        if command == "start":
            return bool(INVITE_CODE.match(arg.upper()))
        if command in TEACH_COMMANDS:
            return True
        if message.kind == "button":
            return text.startswith(("teach:", "answers:", "questions:"))
        if message.kind == "text" and INVITE_CODE.match(text.upper()) and find_invite(turn.session, text):
            return True
        if command is not None or turn.user.role not in AUTHORS:
            return False
        row = turn.session.get(TeachSession, turn.user.id)
        return row is not None and (
            row.state is not None or row.replying_to is not None or row.replying_question is not None
        )

    def handle(self, turn: Turn) -> None:
        """Route the message to linking, listening to answers, replying, or the recording."""
        command, arg = turn.command or (None, "")
        message, text = turn.message, turn.message.text.strip()
        if command == "start" or (
            message.kind == "text" and command is None and find_invite(turn.session, text)
        ):
            self._link(turn, arg or text)
            return
        if turn.user.role not in AUTHORS:
            turn.say("teach.not_master")
            return
        row = teach_session(turn.session, turn.user.id)
        data = message.text.strip() if message.kind == "button" else ""
        replying = row.replying_to is not None or row.replying_question is not None
        if command == "answers":
            row.replying_to = row.replying_question = None
            self._list_answers(turn, questions=self._list_questions(turn))
        elif data.startswith("answers:"):
            self._on_answer(turn, row, data)
        elif data.startswith("questions:"):
            self._on_question(turn, row, data)
        elif replying and command is None and message.kind != "button":
            self._reply(turn, row)
        else:
            row.replying_to = row.replying_question = None
            self._teach(turn, row)

    # -- linking ---------------------------------------------------------------------------------------------

    def _link(self, turn: Turn, code: str) -> None:
        profile = find_invite(turn.session, code)
        if profile is None:
            if turn.user.language is None:
                turn.user.language = turn.tools.default_language.value
            turn.say("teach.invite_invalid")
            return
        redeem_invite(turn.session, profile, turn.user)
        turn.say("teach.welcome_master", {"name": profile.name})

    # -- recording -------------------------------------------------------------------------------------------

    def _teach(self, turn: Turn, row: TeachSession) -> None:
        user, session = turn.user, turn.session
        profile = ensure_profile(session, user)
        state = TeachState.from_json(row.state) if row.state else None
        event = self._event(turn)
        if event is None:
            return
        lang = turn.lang
        teacher = Teacher(
            courses={c.id: pick(localized(c.title), lang)[0] for c in own_courses(session, profile)},
            crafts={c.code: pick(dict(c.name), lang)[0] for c in turn.tools.library.crafts.values()},
            now=utcnow(),
            licence=profile.licence,
            consent=profile.consented_at.isoformat() if profile.consented_at else None,
        )
        replies: list[Reply] = []
        if state is not None and not isinstance(event, Open) and utcnow() - row.updated_at > self.silence:
            replies += teacher.advance(state, Returned()).replies
        step = teacher.advance(state, event)
        replies += step.replies
        for effect in step.effects:
            if isinstance(effect, DraftCheckpoint):
                step = teacher.advance(step.state, self._drafted(turn, effect.text))
                replies += step.replies
        submitted = next((e for e in step.effects if isinstance(e, Submit)), None)
        if submitted is not None:
            try:
                submit_lesson(
                    session,
                    profile=profile,
                    state=submitted.state,
                    lang=lang,
                    files=turn.tools.data_dir / "authoring",
                    library=turn.tools.library,
                    hint=lambda point: self._plain(turn, lang, "draft.hint", {"point": point}),
                )
            except ContentInvalid as exc:
                log.warning("a recorded lesson does not pass the content checks: %s", exc)
                step = TeachTurn(submitted.state)
                replies = [Reply(Msg("teach.invalid")), *teacher.prompt(submitted.state)]
        if step.state is not None and step.state.licence and profile.licence != step.state.licence:
            profile.licence = step.state.licence
            profile.consented_at = utcnow()
        row.state = step.state.to_json() if step.state else None
        row.updated_at = utcnow()
        for reply in replies:
            choices = tuple(turn.choice(b) for b in reply.buttons)
            meta = {"speak": "1"} if reply.speak else {}
            turn.say(reply.text.key, reply.text.params, choices, meta=meta)

    def _event(self, turn: Turn) -> TeachEvent | None:
        """The message as the teaching conversation sees it; None when it was answered already (an error)."""
        message = turn.message
        command, _ = turn.command or (None, "")
        if command == "teach":
            return Open()
        if message.kind == "button":
            return Pressed(message.text.strip())
        media = message.media
        if media is None:
            return Typed(message.text.strip())  # the router's input guards refused empty and too long texts
        kind = _step_media(media)
        if kind is None and media.kind not in VOICE_KINDS:
            turn.say("media.unsupported")
            return None
        if kind is None and turn.tools.transcriber is None:
            turn.say("teach.no_transcriber")
            return None
        path = turn.fetch()
        if path is None:
            return None
        if kind is not None:
            return Shown(kind, str(path))
        transcript = turn.transcribe(path)
        if transcript is None:
            return None
        if not transcript.text.strip():
            turn.say("teach.not_heard")
            return None
        return Spoken(transcript.text.strip(), str(path), sure=not transcript.low_confidence)

    def _drafted(self, turn: Turn, explanation: str) -> Drafted:
        """A checkpoint drafted from the master's words (slow work), never failing."""
        lang = turn.lang
        draft_now = partial(asyncio.to_thread, self.drafter.checkpoint, explanation, lang)
        draft = turn.slow(f"draft:{turn.inbound_id}", draft_now, durable=False)  # in-process, like grading
        if not isinstance(draft, CheckpointDraft):
            log.warning("drafting failed (%r); key phrases instead", draft)
            draft = KeyPhraseDrafter().checkpoint(explanation, lang)
        question = draft.question or self._plain(turn, lang, "draft.question")
        return Drafted(question, draft.points, draft.drafted_by)

    @staticmethod
    def _plain(turn: Turn, lang: Lang, key: str, params: dict[str, str | int] | None = None) -> str:
        """A catalogue text as course content: without the direction marks added for chat display."""
        return turn.tools.catalog.t(lang, key, params).translate(_MARKS).strip()

    # -- hearing apprentices ---------------------------------------------------------------------------------

    def _describe(self, turn: Turn, answer: Answer | Question, lang: Lang) -> dict[str, str | int]:
        """What an answer (or question) was about, in `lang`: the checkpoint's question, the lesson and the
        step number."""
        course = turn.tools.library.courses.get(answer.course_id)
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

    def _list_questions(self, turn: Turn) -> int:
        """The oldest questions waiting for this master, each with its voice note and a button to answer;
        how many were listed."""
        lang = turn.lang
        questions = open_for(turn.session, turn.tools.library, turn.user, ANSWERS_SHOWN)
        for question in questions:
            params = {
                **self._describe(turn, question, lang),
                "learner": _name(turn.session.get(User, question.user_id), question),
                "text": question.text or turn.tools.catalog.t(lang, "questions.voice"),
            }
            reply = Button(Msg("button.answers_reply"), f"questions:reply:{question.id}")
            audio = question.audio_path
            voice = audio if audio and Path(audio).is_file() else None
            turn.say("questions.new", params, (turn.choice(reply),), voice=voice)
        return len(questions)

    def _list_answers(self, turn: Turn, *, questions: int) -> None:
        answers = latest_answers(turn.session, turn.tools.library, turn.user, ANSWERS_SHOWN)
        if not answers:
            if not questions:
                turn.say("answers.none")
            return
        lang = turn.lang
        for answer in answers:
            learner = turn.session.get(User, answer.user_id)
            grade = _GRADES[answer.passed]
            params = {
                **self._describe(turn, answer, lang),
                "learner": _name(learner, answer),
                "answer": answer.transcript or answer.text or "…",
                "grade": turn.tools.catalog.t(lang, grade),
            }
            choices = tuple(
                turn.choice(Button(Msg(f"button.answers_{action}"), f"answers:{action}:{answer.id}"))
                for action in ("reply", "pass", "fail")
            )
            audio = answer.audio_path
            turn.say(
                "answers.item", params, choices, voice=audio if audio and Path(audio).is_file() else None
            )

    def _on_answer(self, turn: Turn, row: TeachSession, data: str) -> None:
        _, action, raw = [*data.split(":"), "", ""][:3]
        answer = turn.session.get(Answer, int(raw)) if raw.isdigit() else None
        if answer is None or action not in {"reply", "pass", "fail"}:
            turn.say("answers.gone")
            return
        if not may_hear(turn.session, turn.user, answer, turn.tools.library):
            turn.say("answers.not_offered")
            return
        learner = turn.session.get(User, answer.user_id)
        name = _name(learner, answer)
        if action == "reply":
            row.replying_to, row.replying_question = answer.id, None
            turn.say("answers.reply_prompt", {"learner": name})
            return
        passed = action == "pass"
        master = turn.user.display_name
        graded = grade_answer(
            turn.session,
            turn.tools.library,
            turn.tools.notifier,
            answer,
            passed=passed,
            by=turn.user,
            note=f"master: {master}",
        )
        if graded is None:
            turn.say("answers.already_decided")
            return
        mine = turn.tools.catalog.t(turn.lang, "answers.grade_passed" if passed else "answers.grade_not_yet")
        turn.say("answers.overridden", {"learner": name, "grade": mine})

    def _on_question(self, turn: Turn, row: TeachSession, data: str) -> None:
        """The reply button of a question: the master's next text or voice note answers it."""
        _, action, raw = [*data.split(":"), "", ""][:3]
        question = turn.session.get(Question, int(raw)) if raw.isdigit() and action == "reply" else None
        if question is None:
            turn.say("answers.gone")
        elif not may_hear(turn.session, turn.user, question, turn.tools.library):
            turn.say("answers.not_offered")
        elif question.answered_at is not None:
            turn.say("questions.answered_already")
        else:
            row.replying_to, row.replying_question = None, question.id
            learner = turn.session.get(User, question.user_id)
            turn.say("answers.reply_prompt", {"learner": _name(learner, question)})

    def _reply(self, turn: Turn, row: TeachSession) -> None:
        """The master's words (as typed, or their voice note) to the apprentice whose answer or question
        they are replying to, framed in the apprentice's language."""
        asked: Answer | Question | None = (
            turn.session.get(Question, row.replying_question)
            if row.replying_question is not None
            else turn.session.get(Answer, row.replying_to)
        )
        if asked is None or (isinstance(asked, Question) and asked.answered_at is not None):
            row.replying_to = row.replying_question = None
            turn.say("answers.gone" if asked is None else "questions.answered_already")
            return
        message = turn.message
        learner = turn.session.get(User, asked.user_id)
        learner_lang = language_of(learner, turn.tools.default_language)
        params = {**self._describe(turn, asked, learner_lang), "master": turn.user.display_name}
        prefix = "questions" if isinstance(asked, Question) else "answers"
        text: str | None = None
        if message.media is not None and message.media.kind in VOICE_KINDS:
            path = turn.fetch()
            if path is None:
                return
            key, voice = f"{prefix}.master_voice", str(path)
        elif message.kind == "text" and message.text.strip():
            text = params["text"] = message.text.strip()
            key, voice = f"{prefix}.master_text", None
        else:
            turn.say("answers.reply_prompt", {"learner": _name(learner, asked)})
            return
        if isinstance(asked, Question):
            record_answer(asked, turn.user, text=text, audio=voice)
        turn.notify(asked.user_id, key, params, kind="master_reply", voice=voice)
        row.replying_to = row.replying_question = None
        turn.say("answers.reply_sent", {"learner": _name(learner, asked)})
