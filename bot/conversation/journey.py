"""The learner's journey: the courses offered, a course started, the tutor's events and answers graded, and
the tutor's effects written as rows."""

from __future__ import annotations

from sqlalchemy import Select, select, update

from bot.conversation.turn import Turn
from lessons.assessment import Assessment, Assessor, InlineAssessor
from lessons.course import Course, Step
from lessons.i18n import LANGUAGE_NAMES
from lessons.languages import FALLBACKS, Lang, pick
from lessons.messages import Choice
from lessons.tutor import (
    AnsweredAgain,
    AnswerGiven,
    Begin,
    CourseDone,
    Event,
    LessonDone,
    Next,
    Position,
    QuestionAsked,
    Repeat,
    Said,
    StepDone,
    Tutor,
)
from progress.certificates import deliver_if_earned
from progress.models import Answer, Enrolment, Question, ReviewItem, ReviewStatus, utcnow
from progress.questions import tell
from progress.steps import step_done


def show_courses(turn: Turn, *, greet: bool = False) -> None:
    """Offer the courses, the learner's craft first; say so when their craft has none yet."""
    library = turn.tools.library
    courses = library.courses_for(turn.user.craft_code, turn.user.region_code)
    craft = library.crafts.get(turn.user.craft_code or "")
    if craft is not None and all(c.craft != craft.code for c in courses):
        turn.say("courses.none_in_craft", {"craft": pick(dict(craft.name), turn.lang)[0]})
    choices = tuple(Choice(_course_label(c, turn.lang), f"course:{c.id}") for c in courses)
    turn.say("courses.greet" if greet else "courses.choose", choices=choices)


def _course_label(course: Course, lang: Lang) -> str:
    """The course's title, with the language it is taught in when that is not the learner's."""
    title = Tutor(course, lang).text(course.title)
    if lang in course.languages:
        return title
    taught = next(other for other in FALLBACKS[lang] if other in course.languages)
    return f"{title} ({LANGUAGE_NAMES[taught]})"


class Journey:
    """Moves a learner through their course with the tutor, grading typed answers with the assessor."""

    def __init__(self, assessor: Assessor) -> None:
        self.assessor = assessor

    def start(self, turn: Turn, course_id: str) -> None:
        """Start the course, or go on where the learner was; a course no longer offered is a stale button."""
        course = turn.tools.library.courses.get(course_id)
        if course is None:
            turn.say("button.stale")
            return
        turn.user.current_course_id = course.id
        found = turn.position()
        enrolment = found[2] if found else None
        if enrolment is None:
            enrolment = Enrolment(user_id=turn.user.id, course_id=course.id, lesson_id=course.lessons[0].id)
            turn.session.add(enrolment)
            turn.session.flush()
            turn.enrolments[course.id] = enrolment
            turn.say("course.welcome", {"course": Tutor(course, turn.lang).text(course.summary)})
            self.event(turn, Begin(course.lessons[0].id))
        elif enrolment.lesson_done:
            self.event(turn, Next())
        else:
            self.event(turn, Repeat())

    def text(self, turn: Turn, text: str) -> None:
        """What the learner said: an answer to grade when a question waits for one, else said to the tutor."""
        found = turn.position()
        if found is None:
            show_courses(turn)
            return
        course, position, _ = found
        step = answering(turn)
        if position.asking or step is None:
            self.event(turn, Said(text))
            return
        checkpoint = step.checkpoint
        assert checkpoint is not None  # answering says so
        assessor, lang = self.assessor, turn.lang
        if isinstance(assessor, InlineAssessor):
            assessment: object = assessor.assess_now(checkpoint, text, lang)
        else:
            key = f"assess:{course.id}:{position.lesson_id}:{step.id}:{text}"
            assessment = turn.slow(key, lambda: assessor.assess(checkpoint, text, lang), durable=False)
        if not isinstance(assessment, Assessment):
            turn.say("assess.failed")
            return
        self.event(
            turn, AnsweredAgain(step.id, text, assessment) if position.done else Said(text, assessment)
        )

    def event(self, turn: Turn, event: Event) -> None:
        """The tutor takes the event: the enrolment moves, its effects become rows, its replies are said."""
        found = turn.position()
        if found is None:
            show_courses(turn)
            return
        course, position, enrolment = found
        step = Tutor(course, turn.lang).advance(position, event)
        new = step.position
        enrolment.lesson_id, enrolment.step_index, enrolment.attempts = new.lesson_id, new.step, new.attempts
        enrolment.asking, enrolment.lesson_done, enrolment.updated_at = new.asking, new.done, utcnow()
        for effect in step.effects:
            self._apply(turn, course, enrolment, effect)
        *replies, last = step.replies
        for reply in replies:
            turn.reply(reply)
        again = _with_a_person_first(turn, course, new)
        if again is not None and again.checkpoint is not None:  # said before the lesson's buttons
            question = Tutor(course, turn.lang).text(again.checkpoint.question)
            turn.say("checkpoint.again", {"question": question})
        turn.reply(last)

    def _apply(self, turn: Turn, course: Course, enrolment: Enrolment, effect: object) -> None:
        session, user = turn.session, turn.user
        if isinstance(effect, StepDone):
            step_done(session, user.id, course.id, effect.lesson_id, effect.step_id)
        elif isinstance(effect, CourseDone):
            enrolment.completed_at = enrolment.completed_at or utcnow()
            deliver_if_earned(session, turn.tools.notifier, turn.tools.library, user, course)
        elif isinstance(effect, AnswerGiven):
            self._record_answer(turn, course, effect)
        elif isinstance(effect, QuestionAsked):
            question = Question(
                user_id=user.id,
                course_id=course.id,
                lesson_id=effect.lesson_id,
                step_id=effect.step_id,
                text=effect.text,
                audio_path=str(turn.fetched) if turn.fetched else None,
            )
            session.add(question)
            session.flush()  # its id, for the master's button
            tell(session, turn.tools.library, turn.tools.notifier, question, user)
        elif not isinstance(effect, LessonDone):
            raise TypeError(effect)

    def _record_answer(self, turn: Turn, course: Course, effect: AnswerGiven) -> None:
        answer = turn.answer
        if answer is None:
            answer = Answer(
                user_id=turn.user.id,
                inbound_id=turn.inbound_id,
                course_id=course.id,
                lesson_id=effect.lesson_id,
                step_id=effect.step_id,
            )
            turn.session.add(answer)
        assessment = effect.assessment
        answer.text = effect.text if answer.audio_path is None else ""
        answer.assessment = assessment
        answer.passed = None if effect.review else assessment.passed
        answer.graded_by = assessment.decided_by
        answer.confidence = assessment.confidence
        if effect.review:
            turn.to_person(answer, "uncertain" if assessment.needs_review else "repeated_failure")
        elif assessment.passed:  # a better answer meanwhile: no person need look at the earlier ones
            at = _answers_at(turn.user.id, course.id, effect.lesson_id, effect.step_id)
            turn.session.execute(
                update(ReviewItem)
                .where(ReviewItem.status == ReviewStatus.OPEN, ReviewItem.answer_id.in_(at))
                .values(status=ReviewStatus.SUPERSEDED, decided_at=utcnow())
            )


def answering(turn: Turn) -> Step | None:
    """The checkpoint an answer now goes to: the current one while not passed, or once the lesson is finished
    the first of its checkpoints whose answer waits for a person (a better answer is graded meanwhile)."""
    found = turn.position()
    if found is None:
        return None
    course, position, _ = found
    if Tutor(course, turn.lang).awaiting_answer(position):
        return course.lesson(position.lesson_id).steps[position.step]
    return _with_a_person_first(turn, course, position)


def _with_a_person_first(turn: Turn, course: Course, position: Position) -> Step | None:
    """The finished lesson's first checkpoint whose answer waits for a person; None when none does."""
    if not position.done:
        return None
    steps = course.lesson(position.lesson_id).steps
    return next(
        (s for s in steps if s.checkpoint and _with_a_person(turn, course.id, position.lesson_id, s.id)), None
    )


def _answers_at(user_id: int, course_id: str, lesson_id: str, step_id: str) -> Select[tuple[int]]:
    """A learner's answers at one checkpoint."""
    return select(Answer.id).where(
        Answer.user_id == user_id,
        Answer.course_id == course_id,
        Answer.lesson_id == lesson_id,
        Answer.step_id == step_id,
    )


def _with_a_person(turn: Turn, course_id: str, lesson_id: str, step_id: str) -> bool:
    """Whether an answer of this learner at this checkpoint waits for a person."""
    at = _answers_at(turn.user.id, course_id, lesson_id, step_id)
    waiting = select(ReviewItem.id).where(
        ReviewItem.status == ReviewStatus.OPEN, ReviewItem.answer_id.in_(at)
    )
    return turn.session.scalar(waiting.limit(1)) is not None
