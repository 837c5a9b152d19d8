"""The voice answer: a learner's voice note at a question is downloaded, kept as their answer, transcribed,
shown back to them and graded like a typed answer; one asked of the master is kept for them to hear."""

from __future__ import annotations

from pathlib import Path

from bot.conversation.journey import Journey, answering
from bot.conversation.turn import VOICE_KINDS, Turn
from progress.models import Answer


class VoiceAnswers:
    """Takes the media a learner sends; only voice notes at a question, with consent, are answers."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey

    def handle(self, turn: Turn) -> None:
        """Answer the media: not now, not supported, or heard and graded (slow work asked for on the way)."""
        media = turn.message.media
        assert media is not None
        found = turn.position()
        at_question = found is not None and (found[1].asking or answering(turn) is not None)
        if media.kind not in VOICE_KINDS or not at_question:
            turn.say("media.not_now" if media.kind in VOICE_KINDS else "media.unsupported")
            return
        if turn.user.stage != "ready":  # the consent is part of onboarding
            turn.say("voice.no_consent")
            return
        path = turn.fetch()
        if path is None:
            return
        if found is not None and found[1].asking:  # a question for the master: they will hear it
            self.journey.text(turn, "")
            return
        answer = self._stored_answer(turn, path)
        transcriber = turn.tools.transcriber
        if transcriber is None:
            turn.say("voice.soon")
            return
        if not transcriber.hears(turn.lang.value):
            turn.to_person(answer, "voice_not_heard")
            turn.say("voice.not_heard")
            return
        transcript = turn.transcribe(path)
        if transcript is None:
            if turn.failed:  # the model kept failing: a person listens instead
                turn.to_person(answer, "voice_failed")
            return
        answer.transcript = transcript.text
        answer.transcript_confidence = transcript.confidence
        if transcript.low_confidence or not transcript.text.strip():
            turn.to_person(answer, "voice_unclear")
            turn.say("voice.unclear")
            return
        turn.say("voice.heard", {"text": transcript.text})
        self.journey.text(turn, transcript.text)

    def _stored_answer(self, turn: Turn, path: Path) -> Answer:
        """The voice note as the learner's answer to the step it answers, graded once transcribed."""
        found = turn.position()
        assert found is not None
        course, position, _ = found
        step = answering(turn) or course.lesson(position.lesson_id).steps[position.step]
        answer = Answer(
            user_id=turn.user.id,
            inbound_id=turn.inbound_id,
            course_id=course.id,
            lesson_id=position.lesson_id,
            step_id=step.id,
            audio_path=str(path),
        )
        turn.session.add(answer)
        turn.answer = answer
        return answer
