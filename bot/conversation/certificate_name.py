"""The name a learner wants printed on their certificates: asked when the first one is earned.

A flow of the conversation (`Service.flows`): the button with their chat app's name, or a reply that looks
like a name while the name question is the last one asked, is that name. Anything else goes its normal way;
the question is asked again with `/progress` or the next course finished.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from progress.certificates import (
    NAME_QUESTION,
    deliver_earned,
    looks_like_name,
    offered_names,
    valid_name,
    waiting_for_name,
)


class CertificateNameFlow:
    """Takes the name to print, checks it, keeps it, and sends the certificates it was holding."""

    def wants(self, turn: Turn) -> bool:
        """The name button, or a name typed in reply to the name question while a certificate waits for it."""
        message = turn.message
        if turn.user.stage != "ready" or turn.command is not None:
            return False
        if message.kind == "button":
            return message.text in {"certname:preferred", "certname:platform"}
        return (
            message.kind == "text"
            and turn.asked == NAME_QUESTION
            and looks_like_name(message.text)
            and waiting_for_name(turn.session, turn.tools.library, turn.user)
        )

    def handle(self, turn: Turn) -> None:
        """Keep a valid name and send what it held; otherwise ask again."""
        session, user, library = turn.session, turn.user, turn.tools.library
        if user.certificate_name is not None:  # a button from before the name was given
            turn.say("button.stale")
            return
        message = turn.message
        name = offered_names(user).get(message.text) if message.kind == "button" else valid_name(message.text)
        if name is None:
            user.pending = NAME_QUESTION
            turn.say("cert.name_invalid")
            return
        user.certificate_name = name
        turn.say("cert.name_saved", {"name": name})
        deliver_earned(session, turn.tools.notifier, library, user)
