"""First contact: language, consent (a guardian's for a minor), region, craft and an optional cooperative."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lessons.content import Library
from lessons.i18n import LANGUAGE_NAMES, Catalog
from lessons.languages import Lang, pick
from lessons.messages import Choice
from progress.models import Consent

if TYPE_CHECKING:
    from bot.conversation.service import Service
    from bot.conversation.turn import Context

STAGES = ("language", "consent", "guardian", "region", "craft", "cooperative", "ready")


class Onboarding:
    """Asks one question at a time, by buttons, and moves the user's stage on."""

    def __init__(self, library: Library, catalog: Catalog) -> None:
        self.library = library
        self.catalog = catalog

    def ask_language(self, service: Service, ctx: Context, *, welcome: bool) -> None:
        """Offer the five languages, the guessed one first."""
        guessed = ctx.lang
        order = [guessed, *(lang for lang in Lang if lang != guessed)]
        choices = tuple(Choice(LANGUAGE_NAMES[lang], f"lang:{lang.value}") for lang in order)
        key = "welcome" if welcome else "language.choose"
        service.say(ctx, key, {"language": LANGUAGE_NAMES[guessed]}, choices)

    def ask_current(self, service: Service, ctx: Context) -> None:
        """Repeat the question of the user's current stage."""
        stage = ctx.user.stage
        lang = ctx.lang
        if stage == "language":
            self.ask_language(service, ctx, welcome=False)
        elif stage == "consent":
            service.say(
                ctx,
                "consent.ask",
                choices=self._choices(lang, ("consent:adult", "consent:minor", "consent:no")),
            )
        elif stage == "guardian":
            service.say(ctx, "consent.guardian", choices=self._choices(lang, ("guardian:yes", "guardian:no")))
        elif stage == "region":
            regions = self.library.regions.values()
            service.say(
                ctx,
                "region.ask",
                choices=tuple(Choice(pick(r.name, lang)[0], f"region:{r.code}") for r in regions),
            )
        elif stage == "craft":
            crafts = self.library.crafts.values()
            service.say(
                ctx,
                "craft.ask",
                choices=tuple(Choice(pick(c.name, lang)[0], f"craft:{c.code}") for c in crafts),
            )
        elif stage == "cooperative":
            service.say(ctx, "cooperative.ask", choices=self._choices(lang, ("cooperative:skip",)))
        else:
            service.show_courses(ctx)

    def _choices(self, lang: Lang, actions: tuple[str, ...]) -> tuple[Choice, ...]:
        return tuple(Choice(self.catalog.t(lang, "button." + a.replace(":", "_")), a) for a in actions)

    def handle(self, service: Service, ctx: Context) -> None:
        """Take the user's answer to the current question, then ask the next."""
        user, message = ctx.user, ctx.message
        data = message.text.strip() if message.kind == "button" else ""
        action, _, arg = data.partition(":")
        if action == "lang" and arg in {lang.value for lang in Lang}:
            user.language = arg
            if user.stage != "language":
                service.say(ctx, "language.set", {"language": LANGUAGE_NAMES[Lang(arg)]})
                return
            user.stage = "consent"
        elif user.stage == "consent" and action == "consent":
            if arg == "no":
                service.say(ctx, "consent.declined")
                ctx.session.add(Consent(user_id=user.id, kind="learning_data_and_voice", granted=False))
            else:
                user.is_minor = arg == "minor"
                if arg == "adult":
                    ctx.session.add(Consent(user_id=user.id, kind="learning_data_and_voice", granted=True))
                user.stage = "guardian" if user.is_minor else "region"
        elif user.stage == "guardian" and action == "guardian":
            if arg != "yes":
                service.say(ctx, "consent.declined")
            else:
                consent = Consent(
                    user_id=user.id, kind="learning_data_and_voice", granted=True, by_guardian=True
                )
                ctx.session.add(consent)
                user.stage = "region"
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
            if coop is None:
                skip = self._choices(ctx.lang, ("cooperative:skip",))
                service.say(ctx, "cooperative.unknown", {"code": message.text.strip()[:40]}, skip)
                return
            user.cooperative_code = code
            service.say(ctx, "cooperative.joined", {"name": coop.name})
            user.stage = "ready"
        else:
            service.say(ctx, "onboarding.use_buttons")
        self.ask_current(service, ctx)
