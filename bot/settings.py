"""Settings from `MAALEM_…` environment variables and an optional `.env` file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from lessons.languages import Lang


class WhatsAppTemplate(BaseModel):
    """An approved WhatsApp template whose one body variable, {{1}}, carries our message text."""

    name: str
    language: str
    """The template's language code, e.g. `fr` or `ar`."""
    languages: dict[str, str] = Field(default_factory=dict)
    """Our language code → the template language approved for it, when not `language`."""


class Settings(BaseSettings):
    """Everything an operator can set; the defaults run offline on one machine."""

    model_config = SettingsConfigDict(env_prefix="MAALEM_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    """Database, received voice notes, generated audio and caches live here."""
    database_url: str | None = None
    """SQLAlchemy URL; defaults to a SQLite file in `data_dir`."""
    db_busy_timeout: float = Field(default=5.0, gt=0, le=60)
    """Seconds SQLite waits for another writer's lock; then a webhook answers 503 (retried later)."""
    content_dir: Path = Path(__file__).resolve().parent.parent / "content"
    models_dir: Path = Path("models")
    default_language: Lang = Lang.DARIJA
    timezone: str = "Africa/Casablanca"
    log_level: str = "INFO"
    question_overdue_days: int = Field(default=3, ge=1)
    """A learner's question unanswered this long is flagged to trainers (dashboard, weekly digest)."""

    # speech
    transcriber: Literal["faster-whisper", "openai-whisper", "transformers", "none"] = "faster-whisper"
    whisper_model: str | None = None
    """A model's name or local path (folder or .pt); the multilingual Whisper base from PyPI when unset."""
    whisper_models: dict[str, str] = {}
    """Per learner language, the model that hears it, as JSON: `{"ary": "darija-whisper", "zgh": "none"}`.
    Darija goes to `darija-whisper` when it is in `models_dir`; Tamazight to nobody (a person) by default."""
    speaker: Literal["espeak-ng", "piper", "gtts", "none"] = "espeak-ng"
    piper_voice: str | None = None
    """With `speaker=piper`: one voice (name or `.onnx` path) for the languages it reads."""
    piper_voices: dict[str, str] = {}
    """With `speaker=piper`, per learner language, its voice as JSON: `{"fr": "piper-fr"}`.
    Voices pulled by `maalem models pull piper-…` are used for their language; espeak-ng reads the others."""
    max_audio_seconds: float = 180.0
    max_audio_bytes: int = 20 * 1024 * 1024
    transcription_workers: int = 2
    """Voice notes transcribed at once; the CPU cores are split between them. Decoding a note leaves cores
    idle between steps, so two at once nearly double the notes per minute even on two cores
    (`bench/speech.py`)."""

    # assessment
    assessor: Literal["rubric", "llm", "remote"] = "rubric"
    llm_model: str | None = None
    """Path of a local instruct model folder or GGUF file, or a name pulled into `models_dir`
    (`atlas-chat-2b`, `qwen3-1.7b`); the SmolLM2-135M from PyPI when unset."""
    llm_api_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_api_model: str = "default"

    # telegram
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_secret: SecretStr | None = None
    telegram_max_download_bytes: int = 20 * 1024 * 1024
    telegram_mode: Literal["polling", "webhook"] = "polling"
    """How `maalem run` gets updates: long polling, or the web app's `/telegram/webhook` (`set-webhook`)."""
    telegram_chat_rate: float = Field(default=1.0, ge=0)
    """Messages per second to one chat after a short burst (Telegram asks about 1); 0: no per-chat pace."""
    telegram_send_rate: float = Field(default=30.0, ge=0)
    """Messages per second from the bot in all (Telegram allows about 30); 0 for no limit (benchmarks)."""

    # whatsapp
    whatsapp_token: SecretStr | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_app_secret: SecretStr | None = None
    whatsapp_verify_token: SecretStr | None = None
    whatsapp_api_url: str = "https://graph.facebook.com/v21.0"
    whatsapp_templates: dict[str, WhatsAppTemplate] = Field(default_factory=dict)
    """Approved templates by message kind (reminder, review, digest, notice), as JSON, used outside the
    24-hour window: `{"reminder": {"name": "maalem_reminder", "language": "fr",
    "languages": {"ary": "ar"}}}` (each with one body variable, {{1}}, that carries our text)."""
    whatsapp_send_rate: float = Field(default=60.0, gt=0)
    """Messages per second from our number (the Cloud API allows 80 by default)."""

    # web
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    web_secret_key: SecretStr | None = None
    """Signs dashboard sessions; generated and kept in `data_dir` when unset."""
    public_url: str | None = None
    """The address people reach the web app at (certificate QR codes, digest links), e.g.
    `https://maalem.example.ma`; `http://web_host:web_port` when unset."""

    max_text_chars: int = Field(default=2000, ge=100)
    """Longer learner messages are answered politely and not assessed."""

    def public_base_url(self) -> str:
        """Where the web app is reached from outside, without a trailing slash."""
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to SQLite in the data folder."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'maalem.db').resolve()}"

    def masked(self) -> dict[str, object]:
        """The effective settings for display: secrets shown as `********`."""
        shown: dict[str, object] = {}
        for name, value in self.model_dump().items():
            shown[name] = value
            if isinstance(getattr(self, name), SecretStr):
                shown[name] = "********" if value else None
            elif name == "database_url" and value and "@" in str(value):
                scheme, _, rest = str(value).partition("://")
                shown[name] = f"{scheme}://********@{rest.split('@', 1)[1]}"
        return shown
