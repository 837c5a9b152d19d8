"""Make the labelled placeholder media that course packs ship until a master records the real clip.

For every step whose `media` is marked `placeholder: true` in `content/courses/<id>/course.yaml`, this writes
a small, honest stand-in at the step's `media.file`: a JPEG/PNG photo drawn with Pillow, or a short, tiny
MP4 (H.264 when PyAV's FFmpeg has libx264, else MPEG-4 part 2) made with PyAV. Each says plainly that it is a
placeholder and which course / lesson / step it stands for.

Existing files are left alone (a master's real recording must never be overwritten); `--force` regenerates
the files of steps still marked `placeholder: true`.

    .venv/bin/python scripts/make_placeholders.py [--content content] [--force] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import yaml
from PIL import Image, ImageDraw, ImageFont

MAX_BYTES = 300_000
"""No placeholder may be larger than this (they are committed to the repository)."""

PHOTO_SIZE = (640, 480)
VIDEO_SIZE = (320, 240)
VIDEO_FPS = 6
VIDEO_SECONDS = 2.5
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
)
PALETTE = ((28, 84, 120), (122, 52, 34), (44, 96, 64), (96, 64, 120), (120, 96, 30), (40, 40, 40))
"""Muted background colours; a course always gets the same one."""


@dataclass(frozen=True)
class Placeholder:
    """One media file a course pack expects, and what its label says."""

    course: str
    lesson: str
    step: str
    kind: str
    path: Path
    title: str

    @property
    def label(self) -> str:
        """The sentence written on the placeholder."""
        return f"PLACEHOLDER — {self.course} / {self.lesson} / {self.step} — a master's recording goes here"


def wanted(content: Path) -> Iterator[tuple[Placeholder, bool]]:
    """Every media file referenced by the packs under `content/courses`, with its `placeholder` flag."""
    for course_file in sorted(content.glob("courses/*/course.yaml")):
        data = yaml.safe_load(course_file.read_text(encoding="utf-8"))
        titles = data.get("title") or {}
        title = titles.get("en") or titles.get("fr") or data["id"]
        for lesson in data.get("lessons", []):
            for step in lesson.get("steps", []):
                media = step.get("media")
                if not media:
                    continue
                yield (
                    Placeholder(
                        course=data["id"],
                        lesson=lesson["id"],
                        step=step["id"],
                        kind=media["kind"],
                        path=course_file.parent / media["file"],
                        title=str(title),
                    ),
                    bool(media.get("placeholder", False)),
                )


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A scalable font if the system has one, else Pillow's built-in one."""
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def em(face: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> int:
    """The font's size in pixels (the built-in bitmap font has no size: about 11)."""
    return int(getattr(face, "size", 11))


def wrap(
    draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    """Break `text` into lines no wider than `width` pixels."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        attempt = f"{line} {word}".strip()
        if draw.textlength(attempt, font=face) <= width or not line:
            line = attempt
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def colour(course: str) -> tuple[int, int, int]:
    """A stable background colour for a course."""
    digest = hashlib.sha256(course.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def card(item: Placeholder, size: tuple[int, int], progress: float | None = None) -> Image.Image:
    """The placeholder picture: a plain card with the label, and a progress bar for video frames."""
    width, height = size
    image = Image.new("RGB", size, colour(item.course))
    draw = ImageDraw.Draw(image)
    margin = width // 16
    border = max(2, width // 160)
    draw.rectangle(
        (border, border, width - border - 1, height - border - 1), outline=(235, 225, 200), width=border
    )

    big = font(max(12, width // 18))
    small = font(max(9, width // 30))
    y = margin
    draw.text((margin, y), "PLACEHOLDER", font=big, fill=(255, 214, 102))
    y += int(em(big) * 1.6)

    body = [
        f"{item.course} / {item.lesson} / {item.step}",
        "",
        "A master's recording goes here.",
        "",
        f"{item.kind}: {item.title}",
    ]
    for paragraph in body:
        if not paragraph:
            y += em(small) // 2
            continue
        for line in wrap(draw, paragraph, small, width - 2 * margin):
            draw.text((margin, y), line, font=small, fill=(250, 248, 240))
            y += int(em(small) * 1.3)

    footer = wrap(draw, item.label, small, width - 2 * margin)
    line_height = int(em(small) * 1.3)
    y = height - margin - line_height * len(footer) - (line_height if progress is not None else 0)
    for line in footer:
        draw.text((margin, y), line, font=small, fill=(210, 205, 190))
        y += line_height

    if progress is not None:
        bar_top = height - margin // 2 - border - 6
        draw.rectangle((margin, bar_top, width - margin, bar_top + 4), outline=(210, 205, 190))
        draw.rectangle(
            (margin, bar_top, margin + int((width - 2 * margin) * progress), bar_top + 4),
            fill=(255, 214, 102),
        )
    return image


def write_photo(item: Placeholder) -> None:
    """A JPEG (or PNG, by the file's extension) card."""
    image = card(item, PHOTO_SIZE)
    suffix = item.path.suffix.lower()
    if suffix == ".png":
        image.save(item.path, format="PNG", optimize=True)
    else:
        image.save(item.path, format="JPEG", quality=70, optimize=True)


def video_codec() -> str:
    """libx264 when this FFmpeg build has it, else MPEG-4 part 2 (always built in)."""
    import av

    try:
        av.codec.Codec("libx264", "w")
    except Exception:  # PyAV raises different errors here depending on its version
        return "mpeg4"
    return "libx264"


def write_video(item: Placeholder) -> None:
    """A short, small, silent MP4 with the card and a moving progress bar."""
    import av

    codec = video_codec()
    frames = round(VIDEO_FPS * VIDEO_SECONDS)
    with av.open(str(item.path), mode="w", format="mp4", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream(codec, rate=Fraction(VIDEO_FPS, 1))
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height = VIDEO_SIZE
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":
            stream.options = {"crf": "32", "preset": "veryslow", "tune": "stillimage", "threads": "1"}
        else:
            stream.bit_rate = 60_000
        for index in range(frames):
            picture = card(item, VIDEO_SIZE, progress=(index + 1) / frames)
            frame = av.VideoFrame.from_image(picture).reformat(format="yuv420p")
            frame.pts = index
            frame.time_base = Fraction(1, VIDEO_FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def make(item: Placeholder) -> None:
    """Write one placeholder file."""
    item.path.parent.mkdir(parents=True, exist_ok=True)
    if item.kind == "photo":
        write_photo(item)
    elif item.kind == "video":
        write_video(item)
    else:
        raise ValueError(f"{item.path}: no placeholder for media kind {item.kind!r}")
    size = item.path.stat().st_size
    if size >= MAX_BYTES:
        raise ValueError(f"{item.path}: placeholder is {size} bytes, limit {MAX_BYTES}")


def main(argv: list[str] | None = None) -> int:
    """Create missing placeholders (or all of them with --force); --check only reports what is missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=Path(__file__).resolve().parent.parent / "content")
    parser.add_argument(
        "--force", action="store_true", help="regenerate files of steps marked placeholder: true"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a media file is missing"
    )
    args = parser.parse_args(argv)

    missing = made = kept = 0
    for item, is_placeholder in wanted(args.content):
        exists = item.path.exists()
        if args.check:
            if not exists:
                print(f"missing: {item.path}")
                missing += 1
            continue
        if exists and not (args.force and is_placeholder):
            kept += 1
            continue
        if not is_placeholder and not exists:
            print(f"missing real recording (not marked placeholder): {item.path}", file=sys.stderr)
            missing += 1
            continue
        make(item)
        made += 1
        print(f"{item.path.stat().st_size:>7} B  {item.path}")
    if args.check:
        return 1 if missing else 0
    print(f"made {made}, kept {kept}, missing {missing}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
