"""Decoding untrusted voice notes within limits, and encoding OGG/Opus voice notes, with PyAV (no ffmpeg)."""

from __future__ import annotations

import io
import itertools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

import av
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.container import OutputContainer

RATE = 16_000
"""Sample rate of decoded audio: what Whisper listens to."""

Samples = npt.NDArray[np.float32]
AudioReason = Literal["empty", "too_big", "too_long", "not_audio", "corrupt", "timeout"]
EncodeFormat = Literal["ogg", "m4a", "mp3", "amr", "wav"]

_OPUS_RATES = (48_000, 24_000, 16_000, 12_000, 8_000)
_ENCODINGS: dict[EncodeFormat, tuple[str, str, tuple[int, ...], int | None]] = {
    "ogg": ("ogg", "libopus", _OPUS_RATES, 24_000),
    "m4a": ("ipod", "aac", (44_100,), 48_000),
    "mp3": ("mp3", "libmp3lame", (44_100,), 48_000),
    "amr": ("amr", "libopencore_amrnb", (8_000,), 12_200),
    "wav": ("wav", "pcm_s16le", (RATE,), None),
}
"""Our name → (muxer, encoder, rates it takes (the first unless the input's is one), bit rate)."""


class AudioError(Exception):
    """A voice note we refuse; `reason` is a stable code the bot words in the learner's language."""

    reason: AudioReason = "corrupt"

    def __init__(self, detail: str) -> None:
        super().__init__(f"{self.reason}: {detail}")
        self.detail = detail


class EmptyAudio(AudioError):
    """The file holds no sound at all."""

    reason = "empty"


class AudioTooBig(AudioError):
    """The file is larger than allowed."""

    reason = "too_big"


class AudioTooLong(AudioError):
    """The sound lasts longer than allowed (by its header or by what decodes)."""

    reason = "too_long"


class NotAudio(AudioError):
    """The content is not an audio format we accept: text, a playlist, a link, unknown bytes."""

    reason = "not_audio"


class CorruptAudio(AudioError):
    """The content looks like audio but does not decode whole."""

    reason = "corrupt"


class DecodeTimeout(AudioError):
    """Decoding took longer than allowed."""

    reason = "timeout"


@dataclass(frozen=True)
class AudioLimits:
    """Bounds on an untrusted voice note."""

    max_bytes: int = 20 * 1024 * 1024
    max_seconds: float = 180.0
    max_wall_seconds: float = 20.0


@dataclass(frozen=True)
class Audio:
    """Decoded sound: mono float32 samples at `RATE`, and the container it came in."""

    samples: Samples
    container: str

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return len(self.samples) / RATE


DEFAULT_LIMITS = AudioLimits()

_NO_NESTING = {"protocol_whitelist": "none"}
"""Nothing inside a file (an MP4 data reference…) may open another source."""


def sniff(head: bytes) -> str:
    """The PyAV demuxer for these first bytes, judged by content only; raise `NotAudio` otherwise."""
    if head.startswith(b"OggS"):
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "mov"  # MP4, M4A, 3GP: voice notes and video notes
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "amr"
    if head.startswith(b"ID3") or (
        len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 6
    ):
        return "mp3"  # a tag, or an MPEG audio frame header (sync bits, then a layer other than 0)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(b"#extm3u"):
        raise NotAudio("a playlist, not a recording")
    if b"://" in text[:64]:
        raise NotAudio("a link, not a recording")
    raise NotAudio("not a known audio format")


MEDIA_TYPES = {
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "mov": "audio/mp4",
    "amr": "audio/amr",
    "mp3": "audio/mpeg",
}
"""The HTTP type of each format `sniff` recognises."""


def media_type(path: Path) -> str:
    """The HTTP content type of a stored voice note, judged by its content like `sniff`."""
    with path.open("rb") as audio:
        head = audio.read(16)
    try:
        return MEDIA_TYPES[sniff(head)]
    except NotAudio:
        return "application/octet-stream"


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The bytes of `path`, refusing more than `max_bytes` without reading them all."""
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise AudioTooBig(f"more than {max_bytes} bytes")
    return data


def decode_audio(source: Path | bytes, limits: AudioLimits = DEFAULT_LIMITS) -> Audio:
    """Decode the first audio track of an untrusted file to mono `RATE` float32, within `limits`."""
    data = source if isinstance(source, bytes) else read_limited(source, limits.max_bytes)
    if len(data) > limits.max_bytes:
        raise AudioTooBig(f"more than {limits.max_bytes} bytes")
    if not data:
        raise EmptyAudio("zero bytes")
    container = sniff(data[:64])
    if not _whole(container, data):
        raise CorruptAudio(f"{container} cut short or damaged")
    try:
        samples = _decode(data, container, limits)
    except (av.FFmpegError, ValueError) as error:  # ValueError: PyAV's own checks on what FFmpeg returned
        raise CorruptAudio(f"{container}: {error}") from error
    if not len(samples):
        raise EmptyAudio(f"{container} with no sound")
    return Audio(samples, container)


def _whole(container: str, data: bytes) -> bool:
    """Whether an OGG file is a run of whole pages and a WAV file holds the sound its header claims."""
    if container == "ogg":
        offset = 0
        while offset + 27 <= len(data) and data.startswith(b"OggS", offset):
            segments = data[offset + 26]
            offset += 27 + segments + sum(data[offset + 27 : offset + 27 + segments])
        return offset == len(data)
    if container == "wav":
        offset = 12
        while offset + 8 <= len(data):
            size = int.from_bytes(data[offset + 4 : offset + 8], "little")
            if data.startswith(b"data", offset):
                return offset + 8 + size <= len(data)
            offset += 8 + size + size % 2
        return False
    return True


def _decode(data: bytes, container_format: str, limits: AudioLimits) -> Samples:
    """Demux and decode from memory (no protocol, file or playlist is reachable), stopping at the limits."""
    deadline = time.monotonic() + limits.max_wall_seconds
    max_samples = int(limits.max_seconds * RATE)
    chunks: list[Samples] = []
    count = 0
    source = io.BytesIO(data)
    with av.open(
        source, "r", format=container_format, options=_NO_NESTING, metadata_errors="replace"
    ) as container:
        if not container.streams.audio:
            raise NotAudio(f"{container_format} without an audio track")
        stream = container.streams.audio[0]
        claimed = container.duration / av.time_base if container.duration else 0.0
        if claimed > limits.max_seconds:
            raise AudioTooLong(f"header says {claimed:.0f} s")
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        frames = (frame for packet in container.demux(stream) for frame in packet.decode())
        for frame in itertools.chain(frames, [None]):
            if time.monotonic() > deadline:
                raise DecodeTimeout(f"over {limits.max_wall_seconds} s")
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray()[0])
                count += out.samples
            if count > max_samples:
                raise AudioTooLong(f"over {limits.max_seconds:.0f} s")
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if claimed and count < (claimed - 0.5) * RATE * 0.9:
        raise CorruptAudio(f"truncated: {count / RATE:.1f} s of {claimed:.1f} s")
    return samples


def write_audio_track(
    container: OutputContainer,
    samples: Samples,
    rate: int,
    *,
    codec: str,
    out_rate: int,
    bit_rate: int | None = None,
) -> None:
    """Add a mono track to an open output container and encode `samples` (at `rate`) into it."""
    stream = cast(AudioStream, container.add_stream(codec, rate=out_rate, layout="mono"))
    if bit_rate:
        stream.bit_rate = bit_rate
    resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=out_rate)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, np.float32)[None, :], "flt", "mono")
    frame.sample_rate = rate
    for chunk in (frame, None):
        for out in resampler.resample(chunk):
            container.mux(stream.encode(out))
    container.mux(stream.encode(None))


def encode_audio(samples: Samples, rate: int, fmt: EncodeFormat = "ogg") -> bytes:
    """Encode mono float32 samples; "ogg" is a phone-like OGG/Opus voice note, the others serve tests."""
    muxer, codec, rates, bit_rate = _ENCODINGS[fmt]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=muxer) as container:
        out_rate = rate if rate in rates else rates[0]
        write_audio_track(container, samples, rate, codec=codec, out_rate=out_rate, bit_rate=bit_rate)
    return buffer.getvalue()


def encode_ogg_opus(samples: Samples, rate: int) -> bytes:
    """A voice-note reply: OGG container, Opus codec, mono."""
    return encode_audio(samples, rate, "ogg")
