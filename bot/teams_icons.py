"""The two icons of the Teams app package, drawn here so that no binary sits in the repository
that nobody can regenerate: `color.png` (192×192, full colour) and `outline.png` (32×32, white on
transparent, as Teams asks). The mark is two linked rings: two sides keeping one cadence.

Pure Python (zlib + struct): a PNG writer is forty lines, not worth a dependency.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

ACCENT = (0x2C, 0x4A, 0x7A)  # the manifest's accentColor, #2C4A7A
WHITE = (0xFF, 0xFF, 0xFF)

Pixel = tuple[int, int, int, int]


def _in_mark(x: float, y: float) -> bool:
    """Whether the point (in a unit square, 0..1 each way) is on one of the two rings."""
    for cx in (0.35, 0.65):
        distance = ((x - cx) ** 2 + (y - 0.5) ** 2) ** 0.5
        if 0.14 <= distance <= 0.21:
            return True
    return False


def _color_pixel(size: int, samples: int = 4, zoom: float = 1.44) -> Callable[[int, int], Pixel]:
    """The colour icon: the white mark on an accent square, its edges smoothed by supersampling.
    `zoom` shrinks the mark to the middle half (96 of 192 pixels wide), where Teams wants the
    symbol, leaving the rest as background."""
    def unit(p: float) -> float:
        return 0.5 + (p / size - 0.5) * zoom

    def pixel(px: int, py: int) -> Pixel:
        corners = {_in_mark(unit(px + dx), unit(py + dy)) for dx in (0, 1) for dy in (0, 1)}
        if len(corners) == 1:  # wholly inside or outside the mark (its strokes are wider than a pixel)
            share = float(corners.pop())
        else:
            hits = sum(_in_mark(unit(px + (i + 0.5) / samples), unit(py + (j + 0.5) / samples))
                       for i in range(samples) for j in range(samples))
            share = hits / samples ** 2
        r, g, b = (round(a + (w - a) * share) for a, w in zip(ACCENT, WHITE, strict=True))
        return (r, g, b, 255)
    return pixel


def _outline_pixel(size: int) -> Callable[[int, int], Pixel]:
    """The outline icon: white where the mark is, fully transparent elsewhere; no grey edges,
    since Teams wants only white and transparency (alpha 0 or 255)."""
    def pixel(px: int, py: int) -> Pixel:
        return (255, 255, 255, 255) if _in_mark((px + 0.5) / size, (py + 0.5) / size) else (0, 0, 0, 0)
    return pixel


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(size: int, pixel: Callable[[int, int], Pixel]) -> bytes:
    """A size×size 8-bit RGBA PNG; each row with filter type 0 (none)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9))
            + _chunk(b"IEND", b""))


def color_png() -> bytes:
    return png(192, _color_pixel(192))


def outline_png() -> bytes:
    return png(32, _outline_pixel(32))
