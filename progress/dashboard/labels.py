"""Names of content (courses, steps, key points, places) in the dashboard's language."""

from __future__ import annotations

from lessons.content import Library
from lessons.course import Course, Step
from lessons.languages import Lang, pick


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
