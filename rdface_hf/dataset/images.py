"""Image checks and normalisation: one source file in, clean 8-bit RGB out.

- the EXIF orientation is applied, then every metadata block (EXIF, GPS,
  ICC, XMP, text chunks) is dropped: the output carries pixels only;
- an embedded ICC profile is honoured (pixels converted to sRGB) first;
- CMYK, RGBA/LA (composited on white), palette, 16-bit and greyscale
  sources become 8-bit RGB;
- only the formats in :data:`ALLOWED_FORMATS` are opened (Pillow never tries
  another plugin, so EPS, which would start Ghostscript, is refused unread);
- files over :func:`max_file_bytes` are refused from their size, decompression
  bombs (over :data:`MAX_PIXELS`) from the header, before any pixel is decoded;
  truncated files are refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageCms, ImageFile, ImageOps

MAX_PIXELS = 50_000_000  # 50 megapixels
MIN_SIDE = 64  # smaller images are kept with a warning
NEAR_DUPLICATE_DISTANCE = 6  # perceptual-hash Hamming distance (of 64 bits) for a near-duplicate
HASH_SIZE = 8
# The formats a release may hold: decoded in-process by Pillow's own plugins (a JPEG
# with several pictures, as cameras write, opens as MPO through the JPEG plugin).
ALLOWED_FORMATS = ("JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP")

ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageRejected(Exception):
    """The file cannot become a dataset image; ``str(exc)`` is the reason."""


@dataclass(frozen=True)
class CleanImage:
    """A normalised image and what was learnt about its source."""

    pixels: np.ndarray  # (H, W, 3) uint8, RGB
    source_mode: str
    source_format: str | None
    greyscale: bool
    notes: tuple[str, ...] = ()  # what was done that a reader should know (kept with a warning)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def _to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(im, src, dst, outputMode=out_mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        notes.append("unusable ICC colour profile ignored")
        return im  # keep the pixels as they are


def _to_rgb8(im: Image.Image) -> Image.Image:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(im, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr).convert("RGB")
    if mode == "F":
        arr = np.asarray(im, dtype=np.float64)
        top = 1.0 if arr.max() <= 1.0 else 255.0
        arr = np.clip(np.round(arr / top * 255.0), 0, 255).astype(np.uint8)
        return Image.fromarray(arr).convert("RGB")
    if mode == "P":
        im = im.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return im.convert("RGB")


def _describe(exc: Exception) -> str:
    """An exception as a reproducible reason: no memory addresses (the report is published)."""
    if isinstance(exc, Image.UnidentifiedImageError):
        return "not an image format Pillow can read"
    return f"{type(exc).__name__}: " + re.sub(r"<[^<>]* at 0x[0-9a-fA-F]+>", "<file>", str(exc))


def max_file_bytes(max_pixels: int = MAX_PIXELS) -> int:
    """The largest file accepted: an uncompressed 16-bit RGBA image of ``max_pixels``, plus 16 MiB."""
    return max_pixels * 8 + (16 << 20)


def _sniff(prefix: bytes) -> str | None:
    """The format Pillow would guess from the first bytes (its plugins' prefix tests only)."""
    Image.init()
    for fmt, (_, accept) in Image.OPEN.items():
        with contextlib.suppress(Exception):
            if accept is not None and accept(prefix):
                return fmt
    return None


def open_image(fp, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open (header only) an image of an allowed format and size; :class:`ImageRejected` otherwise."""
    bomb = f"larger than {max_pixels // 1_000_000} megapixels"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(fp, formats=ALLOWED_FORMATS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRejected(f"{bomb} (decompression bomb)") from None
        except Image.UnidentifiedImageError:
            fp.seek(0)
            other = _sniff(fp.read(64))
            if other:
                raise ImageRejected(f"format {other} is not allowed (allowed: {', '.join(ALLOWED_FORMATS)})") from None
            raise ImageRejected("unreadable or truncated image (not an image format Pillow can read)") from None
        except Exception as exc:  # PIL raises many types on hostile files (struct.error, IndexError, ...)
            raise ImageRejected(f"unreadable or truncated image ({_describe(exc)})") from None
    w, h = im.size
    if w * h > max_pixels:
        raise ImageRejected(f"{bomb} ({w}x{h}, decompression bomb)")
    if w == 0 or h == 0:
        raise ImageRejected("image has zero size")
    return im


def load_clean(data: bytes, *, max_pixels: int = MAX_PIXELS) -> CleanImage:
    """Decode, check and normalise one image file's bytes.

    Raises :class:`ImageRejected` with a short reason for anything that cannot
    become a dataset image.
    """
    if not data:
        raise ImageRejected("empty file")
    if len(data) > max_file_bytes(max_pixels):
        raise ImageRejected(f"file too large ({len(data) >> 20} MiB, over {max_file_bytes(max_pixels) >> 20} MiB)")
    im = open_image(io.BytesIO(data), max_pixels=max_pixels)
    source_mode, source_format = im.mode, im.format
    notes: list[str] = []
    frames = getattr(im, "n_frames", 1)
    if frames > 1:
        notes.append(f"{frames} frames (animated or multi-page): the first is used")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im.load()
            im = ImageOps.exif_transpose(im)
            im = _to_srgb(im, notes)
            rgb = _to_rgb8(im)
            pixels = np.array(rgb, dtype=np.uint8)  # a copy: no metadata travels with an ndarray
        except Image.DecompressionBombWarning:
            raise ImageRejected(f"larger than {max_pixels // 1_000_000} megapixels (decompression bomb)") from None
        except Exception as exc:  # see above: a hostile file must become a reason, not a crash
            raise ImageRejected(f"unreadable or truncated image ({_describe(exc)})") from None
    grey_mode = source_mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
    grey_pixels = bool((pixels[:, :, 0] == pixels[:, :, 1]).all() and (pixels[:, :, 1] == pixels[:, :, 2]).all())
    return CleanImage(
        pixels=pixels,
        source_mode=source_mode,
        source_format=source_format,
        greyscale=grey_mode or grey_pixels,
        notes=tuple(notes),
    )


def decode_rgb(data: bytes | None, *, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Stored image bytes decoded under the builder's limits (allowed formats, ``max_pixels``) to a
    loaded RGB image: what every stage uses to read an image; :class:`ImageRejected` otherwise."""
    if not data:
        raise ImageRejected("empty image")
    im = open_image(io.BytesIO(data), max_pixels=max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im.load()
            return im.convert("RGB")
        except Exception as exc:  # a hostile file must become a reason, not a crash
            raise ImageRejected(f"unreadable or truncated image ({_describe(exc)})") from None


def encode_png(pixels: np.ndarray) -> bytes:
    """Lossless, metadata-free PNG bytes (deterministic for given pixels)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def pixel_sha256(pixels: np.ndarray) -> str:
    """Hash of the decoded pixels and shape: same picture, same hash, any file format."""
    digest = hashlib.sha256()
    digest.update(np.asarray(pixels.shape, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def perceptual_hash(pixels: np.ndarray) -> int:
    """64-bit DCT perceptual hash (``imagehash.phash``) as an integer."""
    import imagehash  # scipy-backed: kept out of the CLI's start-up

    h = imagehash.phash(Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)), hash_size=HASH_SIZE)
    bits = np.asarray(h.hash, dtype=np.uint8).ravel()
    return int("".join("1" if b else "0" for b in bits), 2)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def near_duplicate_pairs(hashes: list[int], max_distance: int = NEAR_DUPLICATE_DISTANCE) -> list[tuple[int, int, int]]:
    """All index pairs (i < j) whose perceptual hashes differ by at most ``max_distance`` bits."""
    if len(hashes) < 2:
        return []
    arr = np.array(hashes, dtype=np.uint64)
    pairs = []
    for i in range(len(arr) - 1):
        x = np.bitwise_xor(arr[i + 1 :], arr[i])
        dist = np.unpackbits(x.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1)
        for j in np.nonzero(dist <= max_distance)[0]:
            pairs.append((i, i + 1 + int(j), int(dist[j])))
    return pairs
