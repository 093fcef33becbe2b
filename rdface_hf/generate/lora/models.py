"""The base Stable Diffusion model: found (folder, Hub or the offline Hub cache), loaded once.

Weights load from safetensors only (``use_safetensors=True``; pickled ``.bin``
files are never downloaded or opened) and never with remote code. A Hub id is
fetched with :func:`huggingface_hub.snapshot_download` restricted to the
components used, so a repo's single-file checkpoints are not downloaded; its
commit hash is the revision recorded with every adapter and image. A local
folder's revision is a sha256 over its configs and weights.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from huggingface_hub import snapshot_download
from transformers import AutoTokenizer, CLIPTextModel

from ..._errors import InputError
from ..._io import file_sha256
from .config import is_repo_id

COMPONENTS = ("unet", "text_encoder", "tokenizer", "scheduler")
IGNORE = ["*.bin", "*.ckpt", "*.pt", "*.pth", "*.msgpack", "*.h5", "*.onnx", "*.pb", "*.gguf"]


def _first_line(exc: BaseException, token: str | None = None) -> str:
    line = (str(exc).strip().splitlines() or [""])[0][:300]
    if token:
        line = line.replace(token, "***")
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def folder_revision(folder: Path) -> str:
    """A Hub snapshot's commit hash, or ``sha256:<hex>`` over a local folder's configs and weights."""
    folder = Path(folder)
    if folder.parent.name == "snapshots" and len(folder.name) == 40:
        return folder.name
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".txt"):
            rel = path.relative_to(folder).as_posix()
            digest.update(rel.encode() + b"\0" + file_sha256(path).encode() + b"\0")
    return "sha256:" + digest.hexdigest()[:16]


def model_digest(spec: str) -> str:
    """The identity of a model a run reads: a local folder's digest, or the Hub id as given."""
    path = Path(str(spec)).expanduser()
    return folder_revision(path) if path.is_dir() else str(spec)


def check_spec(spec: str, what: str, *, hint: str = "") -> None:
    """Refuse, before any work, a model that is neither a folder nor a Hub id."""
    if not Path(str(spec)).expanduser().is_dir() and not is_repo_id(spec):
        raise InputError(f"{what} {spec!r}: no such folder, and not a Hub model id (ORG/NAME){hint}")


def resolve_model(spec: str, patterns: list[str], *, what: str, token: str | bool | None = None) -> tuple[Path, str]:
    """``spec`` as a local folder, or a Hub snapshot of ``patterns`` (works offline from the
    Hub cache); returns ``(folder, revision)``."""
    path = Path(str(spec)).expanduser()
    if path.is_dir():
        return path, folder_revision(path)
    check_spec(spec, what)
    try:
        folder = snapshot_download(str(spec), allow_patterns=patterns, ignore_patterns=IGNORE, token=token)
    except Exception as exc:  # offline and not cached, gated, no such repo: one line
        secret = token if isinstance(token, str) else None
        raise InputError(f"cannot get {what} {spec}: {_first_line(exc, secret)}") from None
    return Path(folder), Path(folder).name


def load_component(cls: Any, folder: Path, subfolder: str | None, *, what: str, **kwargs: Any) -> Any:
    """``cls.from_pretrained`` (safetensors only, no remote code), errors as one line."""
    try:
        if subfolder is not None:
            kwargs["subfolder"] = subfolder
        if cls.__name__.endswith("Tokenizer") or "Scheduler" in cls.__name__:
            return cls.from_pretrained(str(folder), **kwargs)
        return cls.from_pretrained(str(folder), use_safetensors=True, **kwargs)
    except Exception as exc:
        place = f"{folder}/{subfolder}" if subfolder else str(folder)
        raise InputError(f"cannot load the {what} from {place}: {_first_line(exc)}") from None


@dataclass
class BaseModel:
    """The frozen parts of Stable Diffusion that training needs."""

    unet: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    noise_scheduler: Any
    folder: Path
    revision: str
    vae_source: str
    vae_revision: str

    @property
    def vae_scale_factor(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def resolution(self) -> int:
        """The base model's native image side (SD 1.5: 64 latent px x 8 = 512)."""
        return int(self.unet.config.sample_size) * self.vae_scale_factor


def load_vae(spec: str, base_folder: Path, *, own: bool, token=None, hint: str = "") -> tuple[Any, str, str]:
    """The VAE: the base model's own (``vae/``), or a separate id / folder; returns
    ``(vae, source, revision)``. ``hint`` ends the error of a separate VAE that cannot be had."""
    if own:
        return load_component(AutoencoderKL, base_folder, "vae", what="VAE"), "base", folder_revision(base_folder)
    try:
        folder, revision = resolve_model(spec, ["*.json", "*.safetensors"], what="VAE", token=token)
        sub = "vae" if (folder / "vae" / "config.json").is_file() and not (folder / "config.json").is_file() else None
        return load_component(AutoencoderKL, folder, sub, what="VAE"), str(spec), revision
    except InputError as exc:
        raise InputError(f"{exc}{hint}") from None


def load_base(base_model: str, vae: str, *, own_vae: bool, token=None, vae_hint: str = "") -> BaseModel:
    """UNet, VAE, text encoder, tokenizer and the training noise scheduler, on the CPU, fp32."""
    patterns = ["model_index.json", *(f"{c}/*" for c in COMPONENTS)] + (["vae/*"] if own_vae else [])
    folder, revision = resolve_model(base_model, patterns, what="base model", token=token)
    if not (folder / "unet" / "config.json").is_file():
        raise InputError(f"base model {base_model} is not a diffusers Stable Diffusion folder (no unet/config.json)")
    unet = load_component(UNet2DConditionModel, folder, "unet", what="UNet")
    text_encoder = load_component(CLIPTextModel, folder, "text_encoder", what="text encoder")
    tokenizer = load_component(AutoTokenizer, folder, "tokenizer", what="tokenizer")
    scheduler = load_component(DDPMScheduler, folder, "scheduler", what="noise scheduler")
    vae_model, vae_source, vae_revision = load_vae(vae, folder, own=own_vae, token=token, hint=vae_hint)
    for model in (unet, vae_model, text_encoder):
        model.requires_grad_(False)
        model.eval()
    return BaseModel(unet, vae_model, text_encoder, tokenizer, scheduler, folder, revision, vae_source, vae_revision)
