"""Which handler takes a message: the input guards once, then flows, then declared tables of commands and of
button prefixes (`course:zellige` → the `course` handler with `zellige`), instead of chains of ifs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.conversation.turn import Context

COMMANDS = ("start", "help", "courses", "progress", "pause", "language", "spoken", "mydata", "forget")
"""The command menu, in the order the chat apps show it."""

Handler = Callable[[Context, str], None]
"""Takes the message with its argument: a command's text after the name, a button's data after the prefix."""
Step = Callable[[Context], None]
Say = Callable[[Context, str, Mapping[str, str | int]], None]


@dataclass(frozen=True)
class Command:
    """A chat command's handler; one for learners who are ready waits until onboarding is done."""

    handler: Handler
    ready_only: bool = False


@dataclass(frozen=True)
class Routes:
    """The learner's conversation, declared: what handles each kind of message."""

    first_contact: Step
    """The very first message (no language yet): the welcome."""
    onboarding: Step
    """Any message before onboarding is done: an answer to the current question."""
    ask_again: Step
    """A command that waits for onboarding to be done: the current question again."""
    commands: Mapping[str, Command]
    unknown_command: Handler
    buttons: Mapping[str, Handler]
    """By the button data's prefix, before the first `:`."""
    stale_button: Handler
    awaiting: Mapping[str, Handler]
    """By the question the user was asked last (`User.pending`): the button that answers it."""
    media: Step
    text: Handler


class Router:
    """Hands each message to one handler, in a fixed order; the input guards run once, before any of them."""

    def __init__(
        self, routes: Routes, flows: Callable[[Context], bool], say: Say, *, max_text_chars: int
    ) -> None:
        self.routes = routes
        self._flow = flows
        """Lets a conversation beside the learner's journey (a master teaching) take a message first."""
        self.say = say
        self.max_text_chars = max_text_chars

    def dispatch(self, ctx: Context) -> None:
        """Route the message of this unit of work."""
        routes, message, user = self.routes, ctx.message, ctx.user
        text = message.text.strip()
        if user.language is None:
            if not self._flow(ctx):  # a master's invitation link (`/start CODE`) is their very first message
                routes.first_contact(ctx)
            return
        answers = routes.awaiting.get(user.pending or "")
        if answers is not None and message.kind == "button":
            answers(ctx, text)
            return
        user.pending = None
        if self.refused(ctx) or self._flow(ctx):
            return
        ready = user.stage == "ready"
        if (command := ctx.command) is not None:
            name, arg = command
            found = routes.commands.get(name)
            if found is not None and (ready or not found.ready_only):
                found.handler(ctx, arg)
            elif ready:
                routes.unknown_command(ctx, name)
            else:
                routes.ask_again(ctx)
        elif not ready:
            routes.onboarding(ctx)
        elif message.kind == "button":
            action, _, arg = text.partition(":")
            routes.buttons.get(action, routes.stale_button)(ctx, arg)
        elif message.media is not None:
            routes.media(ctx)
        else:
            routes.text(ctx, text)

    def refused(self, ctx: Context) -> bool:
        """Answer input no handler can take (unsupported, edited, empty, too long); True when it was."""
        message, text = ctx.message, ctx.message.text.strip()
        if message.kind == "unsupported":
            self.say(ctx, "input.edited" if message.unsupported == "edited" else "input.unsupported", {})
        elif message.kind == "text" and not text and message.media is None:
            self.say(ctx, "input.empty", {})
        elif len(text) > self.max_text_chars:
            self.say(ctx, "input.too_long", {"limit": self.max_text_chars})
        else:
            return False
        return True
