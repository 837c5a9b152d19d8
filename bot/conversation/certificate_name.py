"""The name a learner wants printed on their certificates: asked once, when the first one is earned.

A flow of the conversation (`Service.flows`): while a certificate waits for it, the learner's next text (or
a button with the name they asked to be called by, or their chat app's) is that name.
"""

from __future__ import annotations

from bot.conversation.turn import Turn
from progress.certificates import deliver_earned, offered_names, valid_name, waiting_for_name


class CertificateNameFlow:
    """Takes the name to print, checks it, keeps it, and sends the certificates it was holding."""

    def wants(self, turn: Turn) -> bool:
        """A name button, or a text that is not a command, while a certificate waits for a name."""
        message = turn.message
        if turn.user.stage != "ready" or turn.command is not None:
            return False
        if message.kind == "button":
            return message.text in {"certname:preferred", "certname:platform"}
        return message.kind == "text" and waiting_for_name(turn.session, turn.tools.library, turn.user)

    def handle(self, turn: Turn) -> None:
        """Keep a valid name and send what it held; otherwise ask again."""
        session, user, library = turn.session, turn.user, turn.tools.library
        if user.certificate_name is not None:  # a button from before the name was given
            turn.say("button.stale")
            return
        message = turn.message
        name = offered_names(user).get(message.text) if message.kind == "button" else valid_name(message.text)
        if name is None:
            turn.say("cert.name_invalid")
            return
        user.certificate_name = name
        turn.say("cert.name_saved", {"name": name})
        deliver_earned(session, turn.tools.notifier, library, user)
