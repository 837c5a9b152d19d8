"""Which handler takes a message: the input guards once, then flows, then declared tables of commands and of
button prefixes (`course:zellige` → the `course` handler with `zellige`), instead of chains of ifs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.conversation import privacy
from bot.conversation.journey import Journey, show_courses
from bot.conversation.onboarding import Onboarding
from bot.conversation.turn import Flow, Turn
from bot.conversation.voice import VoiceAnswers
from lessons.tutor import AskPressed, Begin, Event, Next, Repeat
from progress.masters import AUTHORS
from progress.models import User

COMMANDS = ("start", "help", "courses", "progress", "pause", "language", "spoken", "mydata", "forget")
"""The command menu, in the order the chat apps show it."""
_MENU = " ".join(f"/{name}" for name in COMMANDS)

Handler = Callable[[Turn, str], None]
"""Takes the message with its argument: a command's text after the name, a button's data after the prefix."""
Step = Callable[[Turn], None]


@dataclass(frozen=True)
class Command:
    """A chat command's handler; one for learners who are ready waits until onboarding is done."""

    handler: Handler
    ready_only: bool = False


@dataclass(frozen=True)
class Routes:
    """A conversation, declared: what handles each kind of message."""

    first_contact: Step
    """The very first message (no language yet)."""
    onboarding: Step
    """Any message before onboarding is done: an answer to the current question."""
    ask_again: Step
    """A command that waits for onboarding to be done."""
    commands: Mapping[str, Command]
    unknown_command: Handler
    buttons: Mapping[str, Handler]
    """By the button data's prefix, before the first `:`."""
    stale_button: Handler
    awaiting: Mapping[str, Handler]
    """By the question the user was asked last (`User.pending`): the button that answers it, or "" for a
    typed reply."""
    media: Step
    text: Handler


def learner_routes(onboarding: Onboarding, journey: Journey, voice: VoiceAnswers) -> Routes:
    """The learner's conversation: onboarding, the commands, the course's buttons, answers typed or spoken."""

    def press(event: Event) -> Handler:
        return lambda turn, arg: journey.event(turn, event)

    return Routes(
        first_contact=onboarding.welcome,
        onboarding=onboarding.handle,
        ask_again=onboarding.ask_current,
        commands={
            "start": Command(onboarding.start),
            "help": Command(lambda turn, arg: turn.say("help", {"commands": _MENU})),
            "language": Command(lambda turn, arg: onboarding.ask_language(turn, welcome=False)),
            "mydata": Command(privacy.send_export),
            "forget": Command(privacy.ask_forget),
            "courses": Command(lambda turn, arg: show_courses(turn), ready_only=True),
            "spoken": Command(_spoken, ready_only=True),
        },
        unknown_command=lambda turn, name: turn.say("command.unknown", {"commands": _MENU}),
        buttons={
            "lang": lambda turn, arg: onboarding.handle(turn),
            "courses": lambda turn, arg: show_courses(turn),
            "course": journey.start,
            "lesson": lambda turn, arg: journey.event(turn, Begin(arg)),
            "next": press(Next()),
            "repeat": press(Repeat()),
            "ask": press(AskPressed()),
        },
        stale_button=lambda turn, data: turn.say("button.stale"),
        awaiting={"forget": privacy.forget},
        media=voice.handle,
        text=journey.text,
    )


def _spoken(turn: Turn, arg: str) -> None:
    """`/spoken`: feedback read aloud, or no longer; said plainly when there is no voice in the language."""
    speaker = turn.tools.speaker
    if not turn.user.spoken_feedback and (speaker is None or not speaker.speaks(turn.lang.value)):
        turn.say("spoken.unavailable")
        return
    turn.user.spoken_feedback = not turn.user.spoken_feedback
    turn.say("spoken.on" if turn.user.spoken_feedback else "spoken.off")


class Router:
    """Hands each message to one handler, in a fixed order; the input guards run once, before any of them."""

    def __init__(self, routes: Routes, flows: Sequence[Flow]) -> None:
        self.routes = routes
        self.flows = flows
        """Conversations beside the learner's journey (a master teaching); they take a message first."""

    def dispatch(self, turn: Turn) -> None:
        """Route the message of this unit of work."""
        routes, message, user = self.routes, turn.message, turn.user
        text = message.text.strip()
        if user.language is None:
            if not self._flow(turn):  # a master's invitation link (`/start CODE`) is their very first message
                routes.first_contact(turn)
            return
        answers = routes.awaiting.get(user.pending or "")
        typed = message.kind == "text" and turn.command is None and bool(text)  # "non", typed
        if answers is not None and (message.kind == "button" or typed):
            answers(turn, "" if typed else text)
            return
        turn.asked, user.pending = user.pending, None
        if self.refused(turn) or self._flow(turn):
            return
        ready = user.stage == "ready"
        if (command := turn.command) is not None:
            name, arg = command
            found = routes.commands.get(name)
            if found is not None and (ready or not found.ready_only):
                found.handler(turn, arg)
            elif ready:
                routes.unknown_command(turn, name)
            else:
                routes.ask_again(turn)
        elif not ready:
            routes.onboarding(turn)
        elif message.kind == "button":
            action, _, arg = text.partition(":")
            routes.buttons.get(action, routes.stale_button)(turn, arg)
        elif message.media is not None:
            routes.media(turn)
        else:
            routes.text(turn, text)

    @staticmethod
    def refused(turn: Turn) -> bool:
        """Answer input no handler can take (unsupported, edited, empty, too long); True when it was."""
        message, text, limit = turn.message, turn.message.text.strip(), turn.tools.max_text_chars
        if message.kind == "unsupported":
            turn.say("input.edited" if message.unsupported == "edited" else "input.unsupported")
        elif message.kind == "text" and not text and message.media is None:
            turn.say("input.empty")
        elif len(text) > limit:
            turn.say("input.too_long", {"limit": limit})
        else:
            return False
        return True

    def _flow(self, turn: Turn) -> bool:
        """Let the first flow that wants the message handle it. No flow takes anything from an author who has
        not consented yet (nothing of their voice or video is kept before); one who just linked is asked."""
        if _awaits_consent(turn.user):
            return False
        for flow in self.flows:
            if flow.wants(turn):
                flow.handle(turn)
                if _awaits_consent(turn.user):
                    self.routes.ask_again(turn)
                return True
        return False


def _awaits_consent(user: User) -> bool:
    return user.role in AUTHORS and user.stage != "ready"
