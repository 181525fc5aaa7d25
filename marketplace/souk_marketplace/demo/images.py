"""Icons and screenshots for the demo listings, drawn in code as PNG (listings take PNG, JPEG or WebP).

An icon is the app's initials on a diagonal gradient in a rounded square; a screenshot is a mock of the
app's settings page: a gradient title bar with the app's name, a side menu, cards of text lines and a
bar chart. Text uses a 5×7 pixel font of capitals and digits, scaled up.
"""

from __future__ import annotations

import struct
import zlib

Rgb = tuple[int, int, int]

# 5×7 capitals and digits, one string of five 0/1 columns per row, top to bottom.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": ("01110", "10001", "10001", "11111", "10001", "10001", "10001"),
    "B": ("11110", "10001", "10001", "11110", "10001", "10001", "11110"),
    "C": ("01110", "10001", "10000", "10000", "10000", "10001", "01110"),
    "D": ("11110", "10001", "10001", "10001", "10001", "10001", "11110"),
    "E": ("11111", "10000", "10000", "11110", "10000", "10000", "11111"),
    "F": ("11111", "10000", "10000", "11110", "10000", "10000", "10000"),
    "G": ("01110", "10001", "10000", "10111", "10001", "10001", "01111"),
    "H": ("10001", "10001", "10001", "11111", "10001", "10001", "10001"),
    "I": ("01110", "00100", "00100", "00100", "00100", "00100", "01110"),
    "J": ("00111", "00010", "00010", "00010", "00010", "10010", "01100"),
    "K": ("10001", "10010", "10100", "11000", "10100", "10010", "10001"),
    "L": ("10000", "10000", "10000", "10000", "10000", "10000", "11111"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
    "N": ("10001", "11001", "10101", "10011", "10001", "10001", "10001"),
    "O": ("01110", "10001", "10001", "10001", "10001", "10001", "01110"),
    "P": ("11110", "10001", "10001", "11110", "10000", "10000", "10000"),
    "Q": ("01110", "10001", "10001", "10001", "10101", "10010", "01101"),
    "R": ("11110", "10001", "10001", "11110", "10100", "10010", "10001"),
    "S": ("01111", "10000", "10000", "01110", "00001", "00001", "11110"),
    "T": ("11111", "00100", "00100", "00100", "00100", "00100", "00100"),
    "U": ("10001", "10001", "10001", "10001", "10001", "10001", "01110"),
    "V": ("10001", "10001", "10001", "10001", "10001", "01010", "00100"),
    "W": ("10001", "10001", "10001", "10101", "10101", "10101", "01010"),
    "X": ("10001", "10001", "01010", "00100", "01010", "10001", "10001"),
    "Y": ("10001", "10001", "01010", "00100", "00100", "00100", "00100"),
    "Z": ("11111", "00001", "00010", "00100", "01000", "10000", "11111"),
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11111", "00010", "00100", "00010", "00001", "10001", "01110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    "%": ("11000", "11001", "00010", "00100", "01000", "10011", "00011"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    " ": ("00000",) * 7,
}
WHITE: Rgb = (255, 255, 255)


def _mix(a: Rgb, b: Rgb, t: float) -> Rgb:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def lighter(colour: Rgb, amount: float) -> Rgb:
    return _mix(colour, WHITE, amount)


class Canvas:
    """An RGBA raster with the few shapes the demo pictures need."""

    def __init__(self, width: int, height: int, background: Rgb) -> None:
        self.width, self.height = width, height
        self.rows = [bytearray(bytes((*background, 255)) * width) for _ in range(height)]

    def rect(self, x: int, y: int, w: int, h: int, colour: Rgb) -> None:
        x0, x1 = max(0, x), min(self.width, x + w)
        if x1 <= x0:
            return
        run = bytes((*colour, 255)) * (x1 - x0)
        for row in self.rows[max(0, y) : min(self.height, y + h)]:
            row[x0 * 4 : x1 * 4] = run

    def diagonal_gradient(self, x: int, y: int, w: int, h: int, start: Rgb, end: Rgb) -> None:
        """From ``start`` at the top left to ``end`` at the bottom right, in 1-pixel row bands of 8-pixel steps."""
        for dy in range(h):
            for dx in range(0, w, 8):
                self.rect(x + dx, y + dy, min(8, w - dx), 1, _mix(start, end, (dx / w + dy / h) / 2))

    def round_corners(self, radius: int) -> None:
        """Make the corners outside a quarter circle of ``radius`` transparent."""
        for dy in range(radius):
            for dx in range(radius):
                if (radius - dx - 0.5) ** 2 + (radius - dy - 0.5) ** 2 > radius**2:
                    for cx, cy in ((dx, dy), (self.width - 1 - dx, dy), (dx, self.height - 1 - dy)):
                        self.rows[cy][cx * 4 + 3] = 0
                    self.rows[self.height - 1 - dy][(self.width - 1 - dx) * 4 + 3] = 0

    def text(self, x: int, y: int, words: str, colour: Rgb, scale: int) -> None:
        """Capitals and digits (anything else is a space), ``scale`` pixels per font pixel."""
        for n, char in enumerate(words.upper()):
            glyph = _GLYPHS.get(char, _GLYPHS[" "])
            for gy, bits in enumerate(glyph):
                for gx, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + (n * 6 + gx) * scale, y + gy * scale, scale, scale, colour)

    def png(self) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 6, 0, 0, 0)  # 8-bit RGBA
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
        )


def text_width(words: str, scale: int) -> int:
    return (len(words) * 6 - 1) * scale


def icon(initials: str, colour: Rgb, size: int = 128) -> bytes:
    """The app's initials in white on a gradient from ``colour`` to a lighter tint, corners rounded."""
    canvas = Canvas(size, size, colour)
    canvas.diagonal_gradient(0, 0, size, size, colour, lighter(colour, 0.45))
    scale = size // (len(initials) * 6 + 7)  # a margin of about a quarter of the square on each side
    canvas.text((size - text_width(initials, scale)) // 2, (size - 7 * scale) // 2, initials, WHITE, scale)
    canvas.round_corners(size // 5)
    return canvas.png()


def screenshot(title: str, colour: Rgb, bars: tuple[int, ...], width: int = 640, height: int = 400) -> bytes:
    """A mock of the app's settings page in Souk: title bar, side menu, setting cards and a bar chart."""
    page, line, card = (244, 246, 250), (214, 219, 228), WHITE
    canvas = Canvas(width, height, page)
    canvas.diagonal_gradient(0, 0, width, 56, colour, lighter(colour, 0.35))
    canvas.text(24, 18, title, WHITE, 3)
    canvas.rect(0, 56, 150, height - 56, (233, 236, 242))
    for n in range(5):  # the side menu, its first entry selected
        canvas.rect(16, 76 + n * 30, 118, 20, lighter(colour, 0.75) if n == 0 else page)
        canvas.rect(26, 83 + n * 30, 60 + (n * 17) % 40, 6, colour if n == 0 else line)
    for n in range(3):  # setting cards: a label, a value line and a switch
        top = 76 + n * 62
        canvas.rect(170, top, 220, 50, card)
        canvas.rect(184, top + 12, 90 + (n * 29) % 60, 7, (120, 128, 140))
        canvas.rect(184, top + 29, 150, 7, line)
        canvas.rect(346, top + 17, 30, 16, colour if n != 1 else line)
        canvas.rect(364 if n != 1 else 348, top + 19, 10, 12, card)
    canvas.rect(410, 76, 210, 174, card)  # the chart card
    canvas.rect(424, 88, 100, 7, (120, 128, 140))
    step = 180 // len(bars)
    for n, value in enumerate(bars):
        high = value * 120 // max(bars)
        canvas.diagonal_gradient(426 + n * step, 236 - high, step - 8, high, lighter(colour, 0.3), colour)
    canvas.rect(424, 237, 184, 2, line)
    canvas.rect(170, 274, 450, 106, card)  # a table of recent runs
    for n in range(4):
        canvas.rect(184, 290 + n * 22, 120, 7, line)
        canvas.rect(330, 290 + n * 22, 80, 7, line)
        canvas.rect(540, 288 + n * 22, 56, 11, lighter(colour, 0.6))
    return canvas.png()
