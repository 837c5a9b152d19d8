"""The teaching conversation: a master records a lesson, step by step, with video and voice. No I/O.

Like the tutor, it takes a state and an event and returns the new state, what to say and what to do. The bot
turns voice notes into `Spoken` events (transcribed), files into `Shown` events (saved), and answers a
`DraftCheckpoint` effect with a `Drafted` event; the state is kept in the database between messages, so a
session left half-way resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from lessons.normalize import normalize
from lessons.tutor import Button, Msg, Reply

Phase = Literal[
    "licence",
    "course",
    "craft",
    "course_title",
    "lesson_title",
    "step",
    "important",
    "drafting",
    "review",
    "own_question",
    "own_point",
    "more",
]
StepMedia = Literal["video", "photo"]

LICENCES = ("CC-BY-SA-4.0", "CC-BY-4.0", "CC-BY-NC-SA-4.0")
"""Licences a master can choose in the chat; the first is the default, recommended for shared craft."""
DEFAULT_LICENCE = LICENCES[0]
FREE_TEXT: frozenset[Phase] = frozenset(
    {"course_title", "lesson_title", "step", "review", "own_question", "own_point"}
)
"""Phases where a voice note is dictation, read back for confirmation before it is kept."""
BEFORE_STEPS: frozenset[Phase] = frozenset({"licence", "course", "craft", "course_title", "lesson_title"})
MAX_WORDS_YES_NO = 3
DRAFT_INTROS = {"llm": "teach.draft_intro", "fallback": "teach.draft_fallback"}
"""Intro of a draft: the model's; the master's words after the model failed; else the master's words."""

_YES = (
    "yes yeah yep ok okay oui ouais ah iyeh iyah ih wakha waxxa naam na3am "
    "آه اه إيه ايه إييه واخا نعم ⵢⴰⵀ ⵉⵀ ⵡⴰⵅⵅⴰ"
)
_NO = "no non nope la lla uhu لا لالا ⵓⵀⵓ ⵍⴰ"
YES_WORDS = frozenset(normalize(w) for w in _YES.split())
NO_WORDS = frozenset(normalize(w) for w in _NO.split())


def yes_or_no(text: str) -> bool | None:
    """A short spoken or typed yes (ah, iyeh, wakha, oui, naam…) or no (la, non…); None when it is neither."""
    words = normalize(text).split()
    if not words or len(words) > MAX_WORDS_YES_NO:
        return None
    yes, no = any(w in YES_WORDS for w in words), any(w in NO_WORDS for w in words)
    return yes if yes != no else None


@dataclass(frozen=True)
class Heard:
    """A transcribed voice note waiting for the master to confirm it."""

    text: str
    voice: str
    sure: bool = True


@dataclass(frozen=True)
class TaughtStep:
    """A step the master finished: media, confirmed caption and, for an important step, its checkpoint."""

    media: str
    media_kind: StepMedia
    caption: str
    voice: str | None
    """The master's own voice note explaining it (None when the caption was typed)."""
    recorded: str
    """ISO date."""
    question: str | None = None
    points: tuple[str, ...] = ()
    drafted_by: str | None = None


@dataclass(frozen=True)
class Recording:
    """The step being recorded, in whatever order its parts arrive."""

    media: str | None = None
    media_kind: StepMedia | None = None
    spare: str | None = None
    """A second video or photo that arrived before the voice note: replace the first, or keep it?"""
    spare_kind: StepMedia | None = None
    caption: str | None = None
    voice: str | None = None
    question: str | None = None
    proposed: tuple[str, ...] = ()
    """Drafted key points under review."""
    points: tuple[str, ...] = ()
    """Key points the master kept or dictated."""
    drafted_by: str | None = None
    at: int = 0
    """Review position: 0 is the question, then each proposed key point."""


@dataclass(frozen=True)
class TeachState:
    """Everything a master has recorded in this session, and what comes next."""

    phase: Phase = "licence"
    licence: str | None = None
    consent: str | None = None
    """ISO time the master agreed to publish under `licence`."""
    course: str | None = None
    """An existing course the lesson goes into; None for a new course."""
    craft: str | None = None
    course_title: str | None = None
    lesson_title: str | None = None
    steps: tuple[TaughtStep, ...] = ()
    current: Recording = field(default_factory=Recording)
    heard: Heard | None = None

    @property
    def number(self) -> int:
        """The number of the step being recorded."""
        return len(self.steps) + 1

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form, kept in the database between messages."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TeachState:
        """Rebuild from the database."""
        raw = dict(data)
        steps = tuple(TaughtStep(**{**s, "points": tuple(s.get("points", ()))}) for s in raw.pop("steps", ()))
        current = dict(raw.pop("current", {}))
        for name in ("proposed", "points"):
            current[name] = tuple(current.get(name, ()))
        heard = raw.pop("heard", None)
        return cls(**raw, steps=steps, current=Recording(**current), heard=Heard(**heard) if heard else None)


@dataclass(frozen=True)
class Open:
    """The master sent /teach: start a session, or resume the one left half-way."""


@dataclass(frozen=True)
class Returned:
    """The master comes back after a long silence."""


@dataclass(frozen=True)
class Pressed:
    """A button."""

    data: str


@dataclass(frozen=True)
class Typed:
    """A typed text: exact, so it needs no confirmation."""

    text: str


@dataclass(frozen=True)
class Spoken:
    """A voice note and what the transcriber heard in it."""

    text: str
    voice: str
    sure: bool = True


@dataclass(frozen=True)
class Shown:
    """A video or photo, saved at `path`."""

    kind: StepMedia
    path: str


@dataclass(frozen=True)
class Drafted:
    """A checkpoint drafted from the master's words: a question and key points to approve one by one."""

    question: str
    points: tuple[str, ...]
    drafted_by: str


TeachEvent = Open | Returned | Pressed | Typed | Spoken | Shown | Drafted


@dataclass(frozen=True)
class DraftCheckpoint:
    """Draft a question and key points from this explanation, then send `Drafted`."""

    text: str


@dataclass(frozen=True)
class Submit:
    """The lesson is finished: send it to the trainers for approval."""

    state: TeachState


@dataclass(frozen=True)
class Ended:
    """The session ends with nothing to publish (the master did not agree to share)."""


TeachEffect = DraftCheckpoint | Submit | Ended


@dataclass(frozen=True)
class TeachTurn:
    """The outcome of one event; `state` None means the session is over."""

    state: TeachState | None
    replies: tuple[Reply, ...] = ()
    effects: tuple[TeachEffect, ...] = ()


def _btn(key: str, action: str) -> Button:
    return Button(Msg(f"button.{key}"), action)


def _option(label: str, action: str) -> Button:
    """A button whose label is content (a course title, a craft name), not a catalogue message."""
    return Button(Msg("teach.option", {"label": label}), action)


YES, NO = _btn("teach_yes", "teach:yes"), _btn("teach_no", "teach:no")
AGAIN = _btn("teach_again", "teach:again")
LICENCE_BUTTONS = (
    _btn("licence_by_sa", f"teach:licence:{LICENCES[0]}"),
    _btn("licence_by", f"teach:licence:{LICENCES[1]}"),
    _btn("licence_by_nc_sa", f"teach:licence:{LICENCES[2]}"),
    _btn("licence_no", "teach:licence:no"),
)


@dataclass(frozen=True)
class Teacher:
    """Steps one master's teaching session; what the master can choose from is given, never looked up."""

    courses: Mapping[str, str]
    """Courses this master can add a lesson to: id → title in the master's language."""
    crafts: Mapping[str, str]
    """Crafts a new course can be about: code → name."""
    now: datetime
    licence: str | None = None
    """The licence the master chose before (asked once); None asks it."""
    consent: str | None = None

    def advance(self, state: TeachState | None, event: TeachEvent) -> TeachTurn:
        """Apply `event`; with no session, only `Open` starts one."""
        if state is None:
            if not isinstance(event, Open):
                return TeachTurn(None, (Reply(Msg("teach.start_first")),))
            fresh = TeachState(licence=self.licence, consent=self.consent)
            return self._enter(replace(fresh, phase="course" if self.licence else "licence"))
        if isinstance(event, Returned):
            return TeachTurn(state, (self._where(state),))
        if isinstance(event, Open):
            return self._enter(state, self._where(state))
        if state.heard is not None and state.phase in FREE_TEXT:
            turn = self._confirming(state, state.heard, event)
            if turn is not None:
                return turn
        handler = {
            "licence": self._licence,
            "course": self._course,
            "craft": self._craft,
            "step": self._step,
            "important": self._important,
            "drafting": self._drafting,
            "review": self._review,
            "more": self._more,
        }.get(state.phase, self._free_text)
        return handler(state, event)

    # -- prompts ---------------------------------------------------------------------------------------------

    def prompt(self, state: TeachState) -> tuple[Reply, ...]:
        """What the master is asked at this point of the session."""
        if state.heard is not None and state.phase in FREE_TEXT:
            return (self._read_back(state.heard),)
        n = state.number
        cur = state.current
        prompts: dict[Phase, Reply] = {
            "licence": Reply(Msg("teach.licence"), LICENCE_BUTTONS),
            "course": Reply(
                Msg("teach.choose_course"),
                (
                    *(_option(t, f"teach:course:{c}") for c, t in self.courses.items()),
                    _btn("teach_new", "teach:new"),
                ),
            ),
            "craft": Reply(
                Msg("teach.choose_craft"),
                tuple(_option(name, f"teach:craft:{c}") for c, name in self.crafts.items()),
            ),
            "course_title": Reply(Msg("teach.course_title")),
            "lesson_title": Reply(Msg("teach.lesson_title")),
            "important": Reply(Msg("teach.important", {"n": n}), (YES, NO)),
            "drafting": Reply(Msg("teach.important", {"n": n}), (YES, NO)),
            "own_question": Reply(Msg("teach.dictate_question")),
            "own_point": Reply(Msg("teach.dictate_point")),
            "more": Reply(
                Msg("teach.more", {"n": len(state.steps)}),
                (_btn("teach_step", "teach:step"), _btn("teach_finish", "teach:finish")),
            ),
        }
        if state.phase == "step":
            if cur.spare is not None:
                buttons = (_btn("teach_replace", "teach:replace"), _btn("teach_keep", "teach:keep"))
                return (Reply(Msg("teach.second_media", {"n": n}), buttons),)
            if cur.media is None:
                key = "teach.step_media_after_voice" if cur.caption else "teach.step_media"
                return (Reply(Msg(key, {"n": n})),)
            return (Reply(Msg("teach.step_voice", {"n": n})),)
        if state.phase == "review":
            if cur.at == 0:
                question = Msg("teach.review_question", {"question": cur.question or ""})
                return (Reply(question, (YES, NO), speak=True),)
            point = cur.proposed[cur.at - 1]
            params: dict[str, str | int] = {"i": cur.at, "total": len(cur.proposed), "point": point}
            return (Reply(Msg("teach.review_point", params), (YES, NO), speak=True),)
        return (prompts[state.phase],)

    def _where(self, state: TeachState) -> Reply:
        if state.lesson_title is None:
            return Reply(Msg("teach.resume_start"))
        return Reply(Msg("teach.resume", {"lesson": state.lesson_title, "n": state.number}))

    def _read_back(self, heard: Heard) -> Reply:
        key = "teach.heard" if heard.sure else "teach.heard_unsure"
        return Reply(Msg(key, {"text": heard.text}), (YES, AGAIN), speak=True)

    def _enter(self, state: TeachState, *before: Reply, effects: tuple[TeachEffect, ...] = ()) -> TeachTurn:
        return TeachTurn(state, (*before, *self.prompt(state)), effects)

    def _not_now(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        """Input that does not fit here: say so plainly, then ask again; nothing already recorded is lost."""
        if isinstance(event, Shown) and state.phase in BEFORE_STEPS:
            key = "teach.media_later"
        elif state.phase in {"licence", "important", "review"}:
            key = "teach.yes_or_no"
        elif state.phase in {"course", "craft", "more"}:
            key = "teach.use_buttons"
        else:
            key = "teach.not_now"
        return self._enter(state, Reply(Msg(key)))

    # -- dictation -------------------------------------------------------------------------------------------

    def _confirming(self, state: TeachState, heard: Heard, event: TeachEvent) -> TeachTurn | None:
        """The master confirms, re-records or corrects what was heard; None lets other events through."""
        said = yes_or_no(event.text) if isinstance(event, Spoken) else None
        if event == Pressed("teach:yes") or said is True:
            return self._accept(replace(state, heard=None), heard.text, heard.voice)
        if event == Pressed("teach:again") or said is False:
            return TeachTurn(replace(state, heard=None), (Reply(Msg("teach.record_again")),))
        if isinstance(event, Typed):
            return self._accept(replace(state, heard=None), event.text, heard.voice)
        if isinstance(event, Spoken):
            again = Heard(event.text, event.voice, event.sure)
            return TeachTurn(replace(state, heard=again), (self._read_back(again),))
        if isinstance(event, Shown) and state.phase == "step" and state.current.media is None:
            current = replace(state.current, media=event.path, media_kind=event.kind)
            return self._enter(replace(state, current=current), Reply(Msg("teach.media_kept")))
        return self._enter(state, Reply(Msg("teach.confirm_first")))

    def _free_text(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        if isinstance(event, Spoken):
            heard = Heard(event.text, event.voice, event.sure)
            return TeachTurn(replace(state, heard=heard), (self._read_back(heard),))
        if isinstance(event, Typed):
            return self._accept(state, event.text, None)
        return self._not_now(state, event)

    def _accept(self, state: TeachState, text: str, voice: str | None) -> TeachTurn:
        """Keep a confirmed dictation where the phase needs it."""
        text = text.strip()
        cur = state.current
        if state.phase == "course_title":
            return self._enter(replace(state, course_title=text, phase="lesson_title"))
        if state.phase == "lesson_title":
            return self._enter(replace(state, lesson_title=text, phase="step"))
        if state.phase == "step":
            current = replace(cur, caption=text, voice=voice, spare=None, spare_kind=None)
            phase: Phase = "important" if current.media else "step"
            return self._enter(replace(state, current=current, phase=phase))
        if (state.phase == "review" and cur.at == 0) or state.phase == "own_question":
            return self._next_point(replace(state, phase="review", current=replace(cur, question=text, at=1)))
        if state.phase == "review":
            current = replace(cur, points=(*cur.points, text), at=cur.at + 1)
            return self._next_point(replace(state, current=current))
        return self._finish_step(replace(state, current=replace(cur, points=(*cur.points, text))))

    # -- phases ----------------------------------------------------------------------------------------------

    def _licence(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        said = yes_or_no(event.text) if isinstance(event, Spoken | Typed) else None
        chosen = event.data.removeprefix("teach:licence:") if isinstance(event, Pressed) else None
        if chosen == "no" or said is False:
            return TeachTurn(None, (Reply(Msg("teach.licence_refused")),), (Ended(),))
        if said is True:
            chosen = DEFAULT_LICENCE
        if chosen not in LICENCES:
            return self._not_now(state, event)
        agreed = replace(state, licence=chosen, consent=self.now.isoformat(), phase="course")
        return self._enter(agreed, Reply(Msg("teach.licence_set", {"licence": chosen})))

    def _course(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        if event == Pressed("teach:new"):
            return self._enter(replace(state, phase="craft"))
        if isinstance(event, Pressed) and event.data.removeprefix("teach:course:") in self.courses:
            return self._enter(
                replace(state, course=event.data.removeprefix("teach:course:"), phase="lesson_title")
            )
        return self._not_now(state, event)

    def _craft(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        if isinstance(event, Pressed) and event.data.removeprefix("teach:craft:") in self.crafts:
            return self._enter(
                replace(state, craft=event.data.removeprefix("teach:craft:"), phase="course_title")
            )
        return self._not_now(state, event)

    def _step(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        cur = state.current
        if isinstance(event, Shown):
            if cur.media is None:
                current = replace(cur, media=event.path, media_kind=event.kind)
                return self._enter(
                    replace(state, current=current, phase="important" if cur.caption else "step")
                )
            return self._enter(replace(state, current=replace(cur, spare=event.path, spare_kind=event.kind)))
        if event == Pressed("teach:replace") and cur.spare:
            current = replace(cur, media=cur.spare, media_kind=cur.spare_kind, spare=None, spare_kind=None)
            return self._enter(replace(state, current=current), Reply(Msg("teach.media_replaced")))
        if event == Pressed("teach:keep") and cur.spare:
            return self._enter(replace(state, current=replace(cur, spare=None, spare_kind=None)))
        if isinstance(event, Spoken) and cur.media is None and cur.caption is None:
            heard = Heard(event.text, event.voice, event.sure)
            reply = Reply(Msg("teach.voice_before_media"))
            return TeachTurn(replace(state, heard=heard), (reply, self._read_back(heard)))
        return self._free_text(state, event)

    def _important(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        said = yes_or_no(event.text) if isinstance(event, Spoken | Typed) else None
        if event == Pressed("teach:yes") or said is True:
            drafting = replace(state, phase="drafting")
            return TeachTurn(drafting, (), (DraftCheckpoint(state.current.caption or ""),))
        if event == Pressed("teach:no") or said is False:
            return self._finish_step(state)
        return self._not_now(state, event)

    def _drafting(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        if not isinstance(event, Drafted):
            return TeachTurn(state, (), (DraftCheckpoint(state.current.caption or ""),))
        current = replace(
            state.current,
            question=event.question,
            proposed=event.points,
            points=(),
            drafted_by=event.drafted_by,
            at=0,
        )
        intro = Msg(DRAFT_INTROS.get(event.drafted_by, "teach.draft_phrases"))
        return self._enter(replace(state, phase="review", current=current), Reply(intro))

    def _review(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        cur = state.current
        said = yes_or_no(event.text) if isinstance(event, Spoken | Typed) else None
        if event == Pressed("teach:yes") or said is True:
            if cur.at == 0:
                return self._next_point(replace(state, current=replace(cur, at=1)))
            kept = replace(cur, points=(*cur.points, cur.proposed[cur.at - 1]), at=cur.at + 1)
            return self._next_point(replace(state, current=kept))
        if event == Pressed("teach:no") or said is False:
            if cur.at == 0:
                return self._enter(replace(state, phase="own_question"))
            return self._next_point(replace(state, current=replace(cur, at=cur.at + 1)))
        return self._free_text(state, event)

    def _next_point(self, state: TeachState) -> TeachTurn:
        cur = state.current
        if cur.at <= len(cur.proposed):
            return self._enter(state)
        if not cur.points:
            return self._enter(replace(state, phase="own_point"))
        return self._finish_step(state)

    def _finish_step(self, state: TeachState) -> TeachTurn:
        cur = state.current
        assert cur.media and cur.media_kind and cur.caption  # a step is finished only once it has both
        checkpoint = bool(cur.points)
        step = TaughtStep(
            media=cur.media,
            media_kind=cur.media_kind,
            caption=cur.caption,
            voice=cur.voice,
            recorded=self.now.date().isoformat(),
            question=cur.question if checkpoint else None,
            points=cur.points,
            drafted_by=cur.drafted_by if checkpoint else None,
        )
        done = replace(state, steps=(*state.steps, step), current=Recording(), phase="more")
        before: tuple[Reply, ...] = ()
        if checkpoint:
            params = {"question": cur.question or "", "points": " • ".join(cur.points)}
            before = (Reply(Msg("teach.checkpoint_ready", params)),)
        return self._enter(done, *before)

    def _more(self, state: TeachState, event: TeachEvent) -> TeachTurn:
        if event == Pressed("teach:finish"):
            title = state.lesson_title or ""
            reply = Reply(Msg("teach.submitted", {"lesson": title, "steps": len(state.steps)}))
            return TeachTurn(None, (reply,), (Submit(state),))
        following = replace(state, phase="step", current=Recording())
        if event == Pressed("teach:step"):
            return self._enter(following)
        if isinstance(event, Shown | Spoken):
            return self._step(following, event)  # the master simply went on to the next step
        return self._not_now(state, event)
