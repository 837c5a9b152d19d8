"""Decoding untrusted voice notes: every format phones send, and every way a file can lie, within bounds."""

from __future__ import annotations

import io
import os
import random
import struct
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speech.audio import (
    RATE,
    AudioError,
    AudioLimits,
    AudioTooBig,
    AudioTooLong,
    CorruptAudio,
    DecodeTimeout,
    EmptyAudio,
    NotAudio,
    Samples,
    decode_audio,
    encode_audio,
    encode_ogg_opus,
    media_type,
    write_audio_track,
)
from speech.testing import video_note

pytest_plugins = ("tests.speech_fixtures",)

pytestmark = pytest.mark.timeout(120)

Clip = tuple[Samples, int]


@pytest.mark.parametrize(
    ("fmt", "container"), [("ogg", "ogg"), ("m4a", "mov"), ("mp3", "mp3"), ("amr", "amr"), ("wav", "wav")]
)
def test_every_phone_format_decodes_to_16k_mono(speech_clip: Clip, fmt: str, container: str) -> None:
    samples, rate = speech_clip
    audio = decode_audio(encode_audio(samples, rate, fmt))  # type: ignore[arg-type]
    assert audio.container == container
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration == pytest.approx(len(samples) / rate, abs=0.1)
    assert 0.05 < float(np.abs(audio.samples).max()) <= 1.5


def test_mp3_without_a_tag_is_known_by_its_frames(speech_clip: Clip) -> None:
    tagged = encode_audio(*speech_clip, "mp3")
    size = 10 + sum(byte << (7 * (3 - i)) for i, byte in enumerate(tagged[6:10]))  # ID3v2 sizes are 7-bit
    assert tagged[size] == 0xFF
    assert decode_audio(tagged[size:]).container == "mp3"


def test_the_sound_of_a_video_note_decodes(speech_clip: Clip) -> None:
    audio = decode_audio(video_note(*speech_clip))
    assert audio.container == "mov"
    assert audio.duration == pytest.approx(len(speech_clip[0]) / speech_clip[1], abs=0.1)


def test_content_decides_never_the_name(tmp_path: Path, voice_note: bytes) -> None:
    disguised = tmp_path / "answer.mp3.txt"
    disguised.write_bytes(voice_note)
    assert decode_audio(disguised).container == "ogg"
    text = tmp_path / "answer.ogg"
    text.write_text("Soak the tiles in water before cutting them.\n")
    with pytest.raises(NotAudio):
        decode_audio(text)


def test_reply_voice_notes_are_ogg_opus_mono(speech_clip: Clip) -> None:
    data = encode_ogg_opus(*speech_clip)
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        assert container.format.name == "ogg"
        assert stream.codec_context.name == "opus"
        assert stream.codec_context.channels == 1


def _wav_header(data_bytes: int, pcm: bytes) -> bytes:
    """A 16 kHz mono 16-bit WAV whose header claims `data_bytes` of sound, followed by `pcm`."""
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, RATE, 2 * RATE, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", (36 + data_bytes) % 2**32)
        + b"WAVEfmt "
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
        + pcm
    )


def _ogg_crc(page: bytes) -> int:
    """The CRC-32 of an OGG page (polynomial 0x04C11DB7, unreflected)."""
    crc = 0
    for byte in page:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7 if crc & 0x80000000 else crc << 1) & 0xFFFFFFFF
    return crc


def _claim_short(ogg: bytes, seconds: float) -> bytes:
    """Rewrite the last page's granule position (what demuxers read the duration from), with a valid CRC."""
    data = bytearray(ogg)
    last = data.rfind(b"OggS")
    data[last + 6 : last + 14] = struct.pack("<q", int(seconds * 48_000))
    data[last + 22 : last + 26] = bytes(4)
    data[last + 22 : last + 26] = struct.pack("<I", _ogg_crc(bytes(data[last:])))
    return bytes(data)


@pytest.fixture(scope="module")
def ten_minutes(speech_clip: Clip) -> bytes:
    """A ten-minute OGG/Opus voice note (narrowband, to encode quickly)."""
    samples, rate = speech_clip
    long = np.tile(samples, int(600 * rate / len(samples)) + 1)[::2]
    return encode_audio(long, rate // 2, "ogg")


def test_bad_files_each_give_their_typed_error(
    voice_note: bytes, speech_clip: Clip, ten_minutes: bytes
) -> None:
    pcm = (speech_clip[0][: 2 * RATE] * 32767).astype("<i2").tobytes()
    cases: dict[str, tuple[bytes, type[AudioError], str]] = {
        "empty file": (b"", EmptyAudio, "empty"),
        "truncated voice note": (voice_note[: len(voice_note) // 2], CorruptAudio, "corrupt"),
        "only the first page": (voice_note[:60], CorruptAudio, "corrupt"),
        "text named .ogg": (b"Soak the tiles in water.\n", NotAudio, "not_audio"),
        "HLS playlist": (
            b"#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:10,\nhttp://example.com/a.ts\n",
            NotAudio,
            "not_audio",
        ),
        "a link": (b"https://example.com/voice.ogg", NotAudio, "not_audio"),
        "ten minutes": (ten_minutes, AudioTooLong, "too_long"),
        "WAV header claiming hours": (_wav_header(3 * 3600 * 2 * RATE, pcm), CorruptAudio, "corrupt"),
        "random bytes": (random.Random(7).randbytes(50_000), NotAudio, "not_audio"),
        "OGG header, random pages": (b"OggS" + random.Random(8).randbytes(5_000), CorruptAudio, "corrupt"),
    }
    for name, (data, error, reason) in cases.items():
        started = time.monotonic()
        with pytest.raises(error) as raised:
            decode_audio(data)
        assert raised.value.reason == reason, name
        assert time.monotonic() - started < 5, name


def test_an_honest_wav_header_is_fine(speech_clip: Clip) -> None:
    pcm = (speech_clip[0][: 2 * RATE] * 32767).astype("<i2").tobytes()
    assert decode_audio(_wav_header(len(pcm), pcm)).duration == pytest.approx(len(pcm) / 2 / RATE)


def test_a_header_lying_short_is_stopped_by_counting_samples(ten_minutes: bytes) -> None:
    liar = _claim_short(ten_minutes, 2.0)
    with av.open(io.BytesIO(liar), "r", format="ogg") as container:
        assert container.duration == 2_000_000
    started = time.monotonic()
    with pytest.raises(AudioTooLong, match="over 180 s"):
        decode_audio(liar)
    assert time.monotonic() - started < 5


_PEAK_GROWTH = """
import sys
from pathlib import Path
from speech.audio import AudioError, decode_audio

def kilobytes(field):
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith(field)))

decode_audio(Path(sys.argv[1]))  # codecs loaded, first buffers made
Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from now
before = kilobytes("VmRSS:")
try:
    print(len(decode_audio(Path(sys.argv[2])).samples))
except AudioError as error:
    print(error.reason)
print((kilobytes("VmHWM:") - before) // 1024)
"""


def test_a_long_note_is_stopped_at_the_limit_in_bounded_memory(
    speech_clip: Clip, voice_note: bytes, tmp_path: Path
) -> None:
    samples, rate = speech_clip
    twenty_minutes = np.tile(samples[::2], int(1200 * rate / len(samples)) + 1)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="ogg") as container:
        write_audio_track(
            container, twenty_minutes, rate // 2, codec="libopus", out_rate=8_000, bit_rate=6_000
        )
    note = tmp_path / "long.ogg"
    note.write_bytes(_claim_short(buffer.getvalue(), 2.0))  # only decoding can tell how long it is
    assert note.stat().st_size < 2_000_000  # 20 minutes at 6 kbit/s; 77 MB once decoded whole
    (tmp_path / "short.ogg").write_bytes(voice_note)
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_GROWTH, str(tmp_path / "short.ogg"), str(note)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )
    reason, grown = result.stdout.split()
    assert reason == "too_long"  # stopped at the 180 s of the default limits
    assert int(grown) < 50, f"{grown} MB"  # the 180 s kept (11.5 MB) and the file, never 20 minutes


def test_size_is_refused_before_reading_it_all(tmp_path: Path) -> None:
    big = tmp_path / "big.ogg"
    with big.open("wb") as file:
        file.truncate(10**9)  # sparse: a gigabyte we never read
    with pytest.raises(AudioTooBig):
        decode_audio(big, AudioLimits(max_bytes=1_000_000))
    with pytest.raises(AudioTooBig):
        decode_audio(b"x" * 2_000, AudioLimits(max_bytes=1_000))


def test_wall_time_is_bounded(voice_note: bytes) -> None:
    with pytest.raises(DecodeTimeout):
        decode_audio(voice_note, AudioLimits(max_wall_seconds=0.0))


@pytest.fixture(scope="module")
def corpus(speech_clip: Clip) -> list[bytes]:
    """Valid voice notes in every accepted container, for mutation."""
    samples, rate = speech_clip
    short = samples[: rate * 2]
    return [encode_audio(short, rate, fmt) for fmt in ("ogg", "m4a", "mp3", "amr", "wav")] + [
        video_note(short, rate, frames=4)
    ]


@st.composite
def mutations(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    """A voice note with some bytes flipped, cut, duplicated or inserted."""
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["flip", "cut", "duplicate", "insert", "zero"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        size = draw(st.integers(1, 512))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at : at + size]
        elif kind == "duplicate":
            data[at:at] = data[at : at + size]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        else:
            data[at : at + size] = bytes(len(data[at : at + size]))
    return bytes(data)


def test_fuzzed_voice_notes_decode_or_fail_typed_and_fast(corpus: list[bytes]) -> None:
    limits = AudioLimits(max_seconds=20.0, max_wall_seconds=5.0)

    @settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(mutations(corpus))
    def check(data: bytes) -> None:
        started = time.monotonic()
        try:
            audio = decode_audio(data, limits)
        except AudioError as error:
            reason: str = error.reason
        else:
            reason = "decoded"
            assert audio.duration <= limits.max_seconds + 1
            assert np.isfinite(audio.samples).all()
        assert reason in {"decoded", "empty", "too_big", "too_long", "not_audio", "corrupt", "timeout"}
        assert time.monotonic() - started < 6

    check()


def test_decoding_keeps_no_file_handles(tmp_path: Path, voice_note: bytes) -> None:
    path = tmp_path / "note.ogg"
    path.write_bytes(voice_note)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        decode_audio(path)
    assert len(os.listdir("/proc/self/fd")) <= before


@pytest.mark.parametrize(
    ("fmt", "served"),
    [
        ("ogg", "audio/ogg"),
        ("m4a", "audio/mp4"),
        ("mp3", "audio/mpeg"),
        ("amr", "audio/amr"),
        ("wav", "audio/wav"),
    ],
)
def test_each_phone_format_is_served_with_its_type(
    speech_clip: Clip, tmp_path: Path, fmt: str, served: str
) -> None:
    """Trainers' players get the right type for every format a phone sends (M4A and AMR included)."""
    note = tmp_path / "note.bin"
    note.write_bytes(encode_audio(*speech_clip, fmt))  # type: ignore[arg-type]
    assert media_type(note) == served
    note.write_bytes(b"#EXTM3U\nhttp://x/a.mp3\n")
    assert media_type(note) == "application/octet-stream"
