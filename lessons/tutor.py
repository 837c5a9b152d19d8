"""The tutor engine: given a learner's position and an event, the new position and what to say. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from lessons.assessment import Assessment
from lessons.course import Course, Lesson, Step
from lessons.languages import Lang, pick

MAX_ATTEMPTS = 3
"""After this many tries a checkpoint goes to a person and the learner moves on."""


@dataclass(frozen=True)
class Msg:
    """A catalogue message and its parameters (content already in the learner's language)."""

    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Button:
    """A choice offered to the learner; `action` comes back when it is chosen."""

    label: Msg
    action: str


@dataclass(frozen=True)
class Reply:
    """One message to the learner."""

    text: Msg
    buttons: tuple[Button, ...] = ()
    media: Path | None = None
    media_kind: str | None = None
    speak: bool = False
    """Worth reading aloud to a learner who asked for spoken feedback (captions, questions, feedback)."""


@dataclass(frozen=True)
class Position:
    """Where a learner is in a course."""

    course_id: str
    lesson_id: str
    step: int = 0
    attempts: int = 0
    asking: bool = False
    """The next message is a question for the master, not an answer."""
    done: bool = False


@dataclass(frozen=True)
class Begin:
    """Start (or restart) a lesson."""

    lesson_id: str


@dataclass(frozen=True)
class Next:
    """Move on."""


@dataclass(frozen=True)
class Repeat:
    """Show the current step again."""


@dataclass(frozen=True)
class AskPressed:
    """The learner wants to ask the master something."""


@dataclass(frozen=True)
class Said:
    """The learner wrote or spoke something; `assessment` is set when it answered a checkpoint."""

    text: str
    assessment: Assessment | None = None


@dataclass(frozen=True)
class AnsweredAgain:
    """A new, graded answer to a checkpoint of the finished lesson whose earlier answer waits for a person."""

    step_id: str
    text: str
    assessment: Assessment


Event = Begin | Next | Repeat | AskPressed | Said | AnsweredAgain


@dataclass(frozen=True)
class StepDone:
    """A step was finished (seen, or its checkpoint passed)."""

    lesson_id: str
    step_id: str


@dataclass(frozen=True)
class LessonDone:
    """The last step of a lesson was finished."""

    lesson_id: str


@dataclass(frozen=True)
class CourseDone:
    """Every lesson of the course is finished."""


@dataclass(frozen=True)
class AnswerGiven:
    """A checkpoint answer to record, and whether a person must review it."""

    lesson_id: str
    step_id: str
    text: str
    assessment: Assessment
    review: bool


@dataclass(frozen=True)
class QuestionAsked:
    """A question for the master to record."""

    lesson_id: str
    step_id: str
    text: str


Effect = StepDone | LessonDone | CourseDone | AnswerGiven | QuestionAsked


@dataclass(frozen=True)
class Turn:
    """The outcome of one event."""

    position: Position
    replies: tuple[Reply, ...] = ()
    effects: tuple[Effect, ...] = ()


def _btn(key: str, action: str) -> Button:
    return Button(Msg(f"button.{key}"), action)


NEXT, REPEAT, ASK, COURSES = (
    _btn("next", "next"),
    _btn("repeat", "repeat"),
    _btn("ask", "ask"),
    _btn("courses", "courses"),
)


@dataclass(frozen=True)
class Tutor:
    """Steps one course for one learner in one language."""

    course: Course
    lang: Lang

    def text(self, texts: Mapping[Lang, str]) -> str:
        """Content in the learner's language, or its closest fallback."""
        return pick(dict(texts), self.lang)[0]

    def awaiting_answer(self, position: Position) -> bool:
        """True when the learner is at a checkpoint they have not passed."""
        return not position.done and self._step(position).checkpoint is not None

    def advance(self, position: Position, event: Event) -> Turn:
        """Apply `event` at `position`."""
        if isinstance(event, Begin):
            if event.lesson_id in self.unlocked(position):
                return self._enter(Position(self.course.id, event.lesson_id))
            event = Repeat()  # a button never offered (a skip ahead, another course's): the step again
        step = self._step(position)
        if position.done:
            if isinstance(event, AnsweredAgain):
                return self._answered_again(position, event)
            return Turn(position, (self._finished(position),))
        if isinstance(event, AnsweredAgain):
            event = Repeat()  # only a finished lesson's checkpoints are answered again
        if isinstance(event, AskPressed) and step.checkpoint is not None:
            event = Repeat()  # "ask" is not offered at a checkpoint: the question again
        if isinstance(event, Repeat):
            return self._enter(replace(position, asking=False))
        if isinstance(event, AskPressed):
            return Turn(replace(position, asking=True), (Reply(Msg("ask.prompt")),))
        if isinstance(event, Said):
            return self._said(position, step, event)
        if step.checkpoint:
            question = self.text(step.checkpoint.question)
            return Turn(position, (Reply(Msg("checkpoint.answer_first", {"question": question}), (REPEAT,)),))
        return self._leave(position, step)

    def unlocked(self, position: Position) -> set[str]:
        """Lessons the learner may begin: the current one, and the next once it is done (its button)."""
        if not any(lesson.id == position.lesson_id for lesson in self.course.lessons):
            return set()
        ids = {position.lesson_id}
        following = self._following(position.lesson_id)
        if position.done and following is not None:
            ids.add(following.id)
        return ids

    def _lesson(self, position: Position) -> Lesson:
        return self.course.lesson(position.lesson_id)

    def _step(self, position: Position) -> Step:
        return self._lesson(position).steps[position.step]

    def _enter(self, position: Position) -> Turn:
        """Entering a step sends its media and caption, then its question or the step buttons."""
        lesson, step = self._lesson(position), self._step(position)
        caption = self.text(step.caption)
        params: dict[str, str | int] = {
            "lesson": self.text(lesson.title),
            "n": position.step + 1,
            "total": len(lesson.steps),
            "caption": caption,
            "master": self.course.author_of(step).name,
        }
        media = self.course.media_path(step.media) if step.media else None
        kind = step.media.kind if step.media else None
        if step.checkpoint is None:
            show = Reply(Msg("step.show", params), (NEXT, REPEAT, ASK), media, kind, speak=True)
            return Turn(position, (show,))
        question = self.text(step.checkpoint.question)
        show = Reply(Msg("step.show", params), (), media, kind, speak=True)
        ask = Reply(Msg("checkpoint.ask", {"question": question}), (REPEAT,), speak=True)
        return Turn(position, (show, ask))

    def _said(self, position: Position, step: Step, event: Said) -> Turn:
        if position.asking:
            asked = QuestionAsked(position.lesson_id, step.id, event.text)
            reply = Reply(Msg("ask.received"), (NEXT, REPEAT) if step.checkpoint is None else (REPEAT,))
            return Turn(replace(position, asking=False), (reply,), (asked,))
        if step.checkpoint is None or event.assessment is None:
            return Turn(position, (Reply(Msg("step.use_buttons"), (NEXT, REPEAT, ASK)),))
        assessment = event.assessment
        attempts = position.attempts + 1
        if assessment.needs_review or (not assessment.passed and attempts >= MAX_ATTEMPTS):
            key = "checkpoint.review" if assessment.needs_review else "checkpoint.after_tries"
            record = AnswerGiven(position.lesson_id, step.id, event.text, assessment, review=True)
            reply = Reply(Msg(key, {"hints": self._hints(step, assessment)}), speak=True)
            turn = self._leave(replace(position, attempts=attempts), step, passed=False)
            return replace(turn, replies=(reply, *turn.replies), effects=(record, *turn.effects))
        record = AnswerGiven(position.lesson_id, step.id, event.text, assessment, review=False)
        feedback = self._feedback(step, assessment)
        if assessment.passed:
            turn = self._leave(position, step)
            reply = Reply(feedback, speak=True)
            return replace(turn, replies=(reply, *turn.replies), effects=(record, *turn.effects))
        retry = Reply(feedback, (REPEAT,), speak=True)
        return Turn(replace(position, attempts=attempts), (retry,), (record,))

    def _answered_again(self, position: Position, event: AnsweredAgain) -> Turn:
        """A new answer at a checkpoint of the finished lesson, once left for a person: graded, and passed if
        it passes; an id that is no checkpoint of this lesson changes nothing."""
        step = next((s for s in self._lesson(position).steps if s.id == event.step_id), None)
        if step is None or step.checkpoint is None:
            return Turn(position, (self._finished(position),))
        assessment = event.assessment
        record = AnswerGiven(position.lesson_id, step.id, event.text, assessment, review=False)
        feedback = Reply(self._feedback(step, assessment), speak=True)
        effects: tuple[Effect, ...] = (record,)
        if assessment.passed:
            effects = (record, StepDone(position.lesson_id, step.id))
            if self._following(position.lesson_id) is None:
                effects = (*effects, CourseDone())
        return Turn(position, (feedback, self._finished(position)), effects)

    def _hints(self, step: Step, assessment: Assessment) -> str:
        key_points = step.checkpoint.key_points if step.checkpoint else ()
        return "\n".join(f"• {self.text(kp.hint)}" for kp in key_points if kp.id in assessment.missing())

    def _feedback(self, step: Step, assessment: Assessment) -> Msg:
        """What the learner is told about a graded answer that stays with the machine."""
        key_points = step.checkpoint.key_points if step.checkpoint else ()
        right = ", ".join(self._phrase(kp.phrasings) for kp in key_points if kp.id in assessment.met())
        hints = self._hints(step, assessment)
        if assessment.feedback:
            return Msg("feedback.generated", {"text": assessment.feedback})
        if assessment.passed:
            return Msg("feedback.pass", {"right": right})
        if right:
            return Msg("feedback.partial", {"right": right, "hints": hints})
        return Msg("feedback.none", {"hints": hints})

    def _phrase(self, phrasings: Mapping[Lang, list[str]]) -> str:
        return pick({lang: items[0] for lang, items in phrasings.items()}, self.lang)[0]

    def _leave(self, position: Position, step: Step, *, passed: bool = True) -> Turn:
        """Leaving a step records it done, unless its checkpoint was not passed (left for a person); past the
        last step the lesson (and maybe the course) is done."""
        lesson = self._lesson(position)
        done: list[Effect] = [StepDone(lesson.id, step.id)] if passed else []
        if position.step + 1 < len(lesson.steps):
            turn = self._enter(Position(self.course.id, lesson.id, position.step + 1))
            return replace(turn, effects=(*done, *turn.effects))
        done.append(LessonDone(lesson.id))
        final = replace(position, done=True, attempts=0, asking=False)
        if self._following(lesson.id) is None:
            done.append(CourseDone())
        return Turn(final, (self._finished(final),), tuple(done))

    def _following(self, lesson_id: str) -> Lesson | None:
        ids = [lesson.id for lesson in self.course.lessons]
        index = ids.index(lesson_id) + 1
        return self.course.lessons[index] if index < len(ids) else None

    def _finished(self, position: Position) -> Reply:
        following = self._following(position.lesson_id)
        if following is None:
            return Reply(Msg("course.done", {"course": self.text(self.course.title)}), (COURSES,))
        return Reply(
            Msg("lesson.done", {"lesson": self.text(self._lesson(position).title)}),
            (Button(Msg("button.next_lesson"), f"lesson:{following.id}"), COURSES),
        )
