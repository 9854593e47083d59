"""Reading and writing images safely: clear errors for bad input, atomic outputs.

Every image that enters the course goes through `load_image`: a missing, truncated
or non-image file, a decompression bomb or a 1 x 1 pixel gets one clear sentence
(`ImageInputError`); odd modes (RGBA, LA, palette, grayscale, 16-bit, CMYK) are
converted to 8-bit RGB, transparency composited on white.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from .checkpoints import atomic_path

MIN_SIDE = 8  # pixels; smaller images carry nothing to edit
MAX_PIXELS = 64_000_000  # refuse larger images (decompression bombs) before decoding them
SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP"}


class ImageInputError(ValueError):
    """An input image that cannot be used; the message says why."""


def to_rgb(img: Image.Image) -> Image.Image:
    """8-bit RGB: transparency composited on white, 16/32-bit and float scaled down."""
    if img.mode == "RGB":
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        if img.mode == "F" and arr.max() <= 1.0:
            top = 1.0
        arr = np.clip(arr / top * 255.0, 0, 255).round().astype(np.uint8)
        return Image.fromarray(arr, "L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return img.convert("RGB")


def check_size(size: tuple[int, int], name: str = "image") -> None:
    w, h = size
    if w * h > MAX_PIXELS:
        raise ImageInputError(f"{name} is {w}x{h} = {w * h / 1e6:.0f} megapixels; the limit is "
                              f"{MAX_PIXELS / 1e6:.0f} (refusing a possible decompression bomb)")
    if min(w, h) < MIN_SIDE:
        raise ImageInputError(f"{name} is {w}x{h} pixels; at least {MIN_SIDE}x{MIN_SIDE} is needed")


def load_image(path: str | Path) -> Image.Image:
    """Open, validate and convert an image file to 8-bit RGB, or raise ImageInputError."""
    path = Path(path)
    if not path.exists():
        raise ImageInputError(f"no such file: {path}")
    if not path.is_file():
        raise ImageInputError(f"not a file: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                check_size(img.size, str(path))  # from the header, before decoding pixels
                img.load()
                return to_rgb(img)
    except ImageInputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageInputError(f"{path} is too large to decode safely (decompression bomb)") from None
    except UnidentifiedImageError:
        raise ImageInputError(f"{path} is not an image (no known image format)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageInputError(f"{path} is truncated or corrupt ({e})") from None


def check_output_path(path: str | Path) -> Path:
    path = Path(path)
    if path.suffix.lower() not in SAVE_FORMATS:
        raise ImageInputError(f"cannot write {path}: use one of {', '.join(SAVE_FORMATS)}")
    return path


def save_image(img: Image.Image, path: str | Path) -> Path:
    """Write atomically: an existing file is replaced whole or not at all."""
    path = check_output_path(path)
    with atomic_path(path) as tmp:
        img.save(tmp, format=SAVE_FORMATS[path.suffix.lower()])
    return path
