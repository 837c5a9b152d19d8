"""First contact: language, consent (a guardian's for a minor), the name to be called by, how to be addressed
(where the language has gendered forms), region, craft and an optional cooperative."""

from __future__ import annotations

from bot.conversation.journey import show_courses
from bot.conversation.privacy import refuse
from bot.conversation.turn import Turn
from lessons.content import Library
from lessons.i18n import LANGUAGE_NAMES, Catalog
from lessons.language_guess import guess_language
from lessons.languages import ADDRESS_FORMS, GENDERED, Lang, pick
from lessons.messages import Choice
from progress.certificates import valid_name
from progress.consent import forget_refusal, refused_before
from progress.masters import AUTHORS
from progress.models import Consent, User

STAGES = ("language", "consent", "guardian", "name", "address", "region", "craft", "cooperative", "ready")


class Onboarding:
    """Asks one question at a time, by buttons, and moves the user's stage on."""

    def __init__(self, library: Library, catalog: Catalog) -> None:
        self.library = library
        self.catalog = catalog

    def welcome(self, turn: Turn) -> None:
        """The very first message: the language guessed from it, then the five offered."""
        message, default = turn.message, turn.tools.default_language
        turn.user.language = guess_language(message.text.strip(), message.locale, default).value
        if refused_before(turn.session, turn.identity_hash):
            turn.user.stage = "consent"
            turn.say("consent.again")
            self.ask_current(turn)
        else:
            self.ask_language(turn, welcome=True)

    def start(self, turn: Turn, arg: str = "") -> None:
        """`/start`: the courses once onboarding is done, else the current question again."""
        if turn.user.stage == "ready":
            show_courses(turn, greet=True)
        else:
            self.ask_current(turn)

    def ask_language(self, turn: Turn, *, welcome: bool) -> None:
        """Offer the five languages, the guessed one first."""
        guessed = turn.lang
        order = [guessed, *(lang for lang in Lang if lang != guessed)]
        choices = tuple(Choice(LANGUAGE_NAMES[lang], f"lang:{lang.value}") for lang in order)
        key = "welcome" if welcome else "language.choose"
        turn.say(key, {"language": LANGUAGE_NAMES[guessed]}, choices)

    def ask_current(self, turn: Turn) -> None:
        """Repeat the question of the user's current stage."""
        stage = turn.user.stage
        lang = turn.lang
        if stage == "language":
            self.ask_language(turn, welcome=False)
        elif stage == "consent" and turn.user.role in AUTHORS:
            turn.say("consent.master", choices=self._choices(lang, ("consent:adult", "consent:no")))
        elif stage == "consent":
            turn.say(
                "consent.ask",
                choices=self._choices(lang, ("consent:adult", "consent:minor", "consent:no")),
            )
        elif stage == "guardian":
            turn.say("consent.guardian", choices=self._choices(lang, ("guardian:yes", "guardian:no")))
        elif stage == "name":
            platform = valid_name(turn.user.display_name)
            offered = (Choice(platform, "name:platform"),) if platform else ()
            turn.say("name.ask", choices=offered + self._choices(lang, ("name:skip",)))
        elif stage == "address":
            actions = tuple(f"address:{form}" for form in (*ADDRESS_FORMS, "skip"))
            turn.say("address.ask", choices=self._choices(lang, actions))
        elif stage == "region":
            regions = self.library.regions.values()
            turn.say(
                "region.ask",
                choices=tuple(Choice(pick(r.name, lang)[0], f"region:{r.code}") for r in regions),
            )
        elif stage == "craft":
            crafts = self.library.crafts.values()
            turn.say(
                "craft.ask",
                choices=tuple(Choice(pick(c.name, lang)[0], f"craft:{c.code}") for c in crafts),
            )
        elif stage == "cooperative":
            turn.say("cooperative.ask", choices=self._choices(lang, ("cooperative:skip",)))
        else:
            show_courses(turn)

    def _choices(self, lang: Lang, actions: tuple[str, ...]) -> tuple[Choice, ...]:
        return tuple(Choice(self.catalog.t(lang, "button." + a.replace(":", "_")), a) for a in actions)

    @staticmethod
    def _granted(turn: Turn, *, by_guardian: bool) -> None:
        """Record the consent; an earlier refusal from this identity is no longer kept."""
        kind = "teaching_voice_and_video" if turn.user.role in AUTHORS else "learning_data_and_voice"
        consent = Consent(user_id=turn.user.id, kind=kind, granted=True, by_guardian=by_guardian)
        turn.session.add(consent)
        forget_refusal(turn.session, turn.identity_hash)

    def handle(self, turn: Turn) -> None:
        """Take the user's answer to the current question, then ask the next."""
        user, message = turn.user, turn.message
        data = message.text.strip() if message.kind == "button" else ""
        action, _, arg = data.partition(":")
        if action == "lang" and arg in {lang.value for lang in Lang}:
            user.language = arg
            if user.stage != "language":
                turn.say("language.set", {"language": LANGUAGE_NAMES[Lang(arg)]})
                return
            user.stage = "consent"
        elif user.stage == "consent" and action == "consent":
            if arg == "no":
                refuse(turn)
                return
            user.is_minor = arg == "minor"
            if arg == "adult":
                self._granted(turn, by_guardian=False)
            user.stage = "guardian" if user.is_minor else "name"
            if user.role in AUTHORS and arg == "adult":  # name, region and craft come with the master profile
                user.stage = _after_name(user)
        elif user.stage == "guardian" and action == "guardian":
            if arg != "yes":
                refuse(turn)
                return
            self._granted(turn, by_guardian=True)
            user.stage = "name"
        elif user.stage == "name" and data == "name:skip":
            user.stage = _after_name(user)
        elif user.stage == "name" and (data == "name:platform" or message.kind == "text"):
            name = valid_name(user.display_name if data else message.text)  # never logged: personal data
            if name is None:
                turn.say("name.invalid")
            else:
                user.preferred_name = name
                turn.say("name.saved", {"name": name})
                user.stage = _after_name(user)
        elif user.stage == "address" and action == "address" and arg in {*ADDRESS_FORMS, "skip"}:
            user.address_form = arg if arg in ADDRESS_FORMS else None
            user.stage = _after_address(user)
        elif user.stage == "region" and action == "region" and arg in self.library.regions:
            user.region_code = arg
            user.stage = "craft"
        elif user.stage == "craft" and action == "craft" and arg in self.library.crafts:
            user.craft_code = arg
            user.stage = "cooperative"
        elif user.stage == "cooperative" and data == "cooperative:skip":
            user.stage = "ready"
        elif user.stage == "cooperative" and message.kind == "text" and message.text.strip():
            code = message.text.strip().upper()
            coop = self.library.cooperatives.get(code)
            skip = self._choices(turn.lang, ("cooperative:skip",))
            if coop is None:
                turn.say("cooperative.unknown", {"code": message.text.strip()[:40]}, skip)
                return
            if coop.region != user.region_code:  # joining would put the learner in another region's scope
                turn.say("cooperative.other_region", {"name": coop.name}, skip)
                return
            user.cooperative_code = code
            turn.say("cooperative.joined", {"name": coop.name})
            user.stage = "ready"
        else:
            turn.say("onboarding.use_buttons")
        self.ask_current(turn)


def _after_name(user: User) -> str:
    """The stage after the name: how to address them where the language has gendered forms, else on."""
    return "address" if user.language in {lang.value for lang in GENDERED} else _after_address(user)


def _after_address(user: User) -> str:
    """The region next, except for a master: theirs comes with the master profile."""
    return "ready" if user.role in AUTHORS else "region"
