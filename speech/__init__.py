"""Audio decoding with limits, transcription backends and text-to-speech (audio and models only)."""
