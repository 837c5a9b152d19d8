"""One stored-assessment shape: what grading stores is what the dashboard reads back, older rows included."""

from __future__ import annotations

import json

from bot.app import App
from lessons.assessment import Assessment, PointVerdict
from progress.models import Answer, User

GRADED = Assessment(
    (PointVerdict("face-down", True, 0.9, "وجه لتحت"), PointVerdict("tight-joints", False, 0.4)),
    passed=False,
    confidence=0.4,
    decided_by="combined",
    needs_review=True,
    feedback="Presque : serrez les joints.",
    details={"reasons": ["doubtful"], "llm": {"p_yes": {"face-down": 0.91}}},
)
OLD_ROW = {
    "passed": True,
    "confidence": 0.8,
    "decided_by": "rubric",
    "needs_review": False,
    "feedback": None,
    "verdicts": [{"key_point": "face-down", "met": True, "confidence": 0.8, "evidence": "face-down"}],
}
"""An answer's assessment as the conversation stored it before the shapes were one."""


def test_an_assessment_survives_its_json_shape() -> None:
    stored = json.loads(json.dumps(GRADED.to_json(), ensure_ascii=False))
    assert Assessment.from_json(stored) == GRADED
    assert [p["key_point"] for p in stored["key_points"]] == ["face-down", "tight-joints"]


def _answer(app: App, assessment: Assessment | None) -> int:
    with app.sessions() as session:
        user = User(display_name="Fatima", language="fr")
        session.add(user)
        session.flush()
        answer = Answer(
            user_id=user.id, course_id="zellige", lesson_id="l", step_id="s", assessment=assessment
        )
        session.add(answer)
        session.commit()
        return answer.id


def _read(app: App, answer_id: int) -> Answer:
    with app.sessions() as session:
        return session.get_one(Answer, answer_id)


def test_the_answers_column_gives_back_the_assessment_it_was_given(app: App) -> None:
    read = _read(app, _answer(app, GRADED))
    assert read.assessment == GRADED
    assert not read.machine_passed
    assert _read(app, _answer(app, None)).assessment is None


def test_a_row_in_the_older_shape_still_reads(app: App) -> None:
    answer_id = _answer(app, None)
    with app.engine.begin() as connection:  # as an older release left it, past the typed column
        connection.exec_driver_sql(
            "UPDATE answers SET assessment = ? WHERE id = ?", (json.dumps(OLD_ROW), answer_id)
        )
    read = _read(app, answer_id)
    assert read.assessment == Assessment(
        (PointVerdict("face-down", True, 0.8, "face-down"),), passed=True, confidence=0.8, decided_by="rubric"
    )
    assert read.machine_passed
