"""Fetching a model by recipe, from the Hugging Face Hub or a local mirror, converted where it must be."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable
from fnmatch import fnmatch
from pathlib import Path

from speech.recipes import ModelSpec, find_spec, folder_name
from speech.types import ModelError

DOWNLOADS = ".downloads"
"""The models folder's subfolder where a download waits for its conversion."""
CONVERTED_FILES = ("tokenizer.json", "preprocessor_config.json")
"""Copied next to the converted model, where the download has them (faster-whisper reads both)."""


def check_pullable(spec: ModelSpec, *, accept_licence: bool) -> None:
    """`ModelError` when a recipe cannot be fetched as asked: a package missing, a licence not accepted."""
    if spec.needs and importlib.util.find_spec(spec.needs.replace("-", "_")) is None:
        raise ModelError(
            f"{spec.name} needs the `{spec.needs}` package, which Maalem does not install, and Maalem has no "
            f"transcriber for it yet: fetching it would only fill the disk"
        )
    if not spec.commercial and not accept_licence:
        raise ModelError(
            f"{spec.name} is under {spec.licence}, which forbids commercial use: read it, then pull again "
            "with --accept-licence"
        )


def copy_from_mirror(mirror: Path, repo_id: str, target: Path, patterns: tuple[str, ...]) -> None:
    """Copy a repository's files from a local mirror laid out as `MIRROR/<owner>/<name>/…` (a USB stick)."""
    source = mirror / repo_id
    files = [
        path
        for path in sorted(source.rglob("*"))
        if path.is_file()
        and (not patterns or any(fnmatch(path.relative_to(source).as_posix(), p) for p in patterns))
    ]
    if not files:
        raise ModelError(f"no files of {repo_id} in the mirror {mirror}")
    for path in files:
        copy = target / path.relative_to(source)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)


def download_from_hub(
    repo_id: str, target: Path, patterns: tuple[str, ...], endpoint: str | None, *, hint: str
) -> None:
    """Fetch a repository's files from the Hub; `ModelError`, ending with `hint`, if unreachable."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError

    try:
        snapshot_download(repo_id, local_dir=target, allow_patterns=list(patterns) or None, endpoint=endpoint)
    except (OSError, HfHubHTTPError) as error:
        raise ModelError(
            f"cannot fetch {repo_id} from the Hugging Face Hub ({type(error).__name__}): is this machine "
            f"offline? {hint}"
        ) from error


def convert_whisper(source: Path, target: Path) -> Path:
    """Convert a `transformers` Whisper folder to CTranslate2 int8 (tokenizer copied) for faster-whisper."""
    from ctranslate2.converters import TransformersConverter

    copied = [name for name in CONVERTED_FILES if (source / name).is_file()]
    try:
        converted = TransformersConverter(str(source), copy_files=copied).convert(
            str(target), quantization="int8", force=True
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise ModelError(f"cannot convert {source} to CTranslate2: {error}") from error
    return Path(converted)


def pull(
    name: str,
    models_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    endpoint: str | None = None,
    mirror: Path | None = None,
    accept_licence: bool = False,
) -> Path:
    """Fetch a recommended model (or any Hub repo id) into `models_dir`, converted if its recipe says so."""
    spec = find_spec(name)
    if spec:
        check_pullable(spec, accept_licence=accept_licence)
    repo_id, patterns = (spec.repo_id, spec.files) if spec else (name, ())
    target = models_dir / folder_name(name)
    download = models_dir / DOWNLOADS / target.name if spec and spec.convert else target
    say = progress or (lambda _: None)
    say(f"fetching {repo_id} into {download}")
    if mirror is None:
        hint = (
            f"Where there is internet, run `maalem models pull {name}` and copy {target.name}/ to "
            f"{models_dir}, or pull here with --mirror FOLDER."
        )
        download_from_hub(repo_id, download, patterns, endpoint, hint=hint)
    else:
        copy_from_mirror(mirror, repo_id, download, patterns)
    if download != target:
        say(f"converting to CTranslate2 int8 into {target}")
        convert_whisper(download, target)
        shutil.rmtree(download)
    say(f"done: {target}")
    return target
