"""The PWA's PNG icons, as tools/make_icons.py renders them from icon.svg: present,
of the exact sizes, and (for the full-bleed ones) opaque to the corners."""

import struct
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ICONS = ROOT / "pwa" / "static" / "icons"
SCRIPT = ROOT / "tools" / "make_icons.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZES = {
    "icon-192.png": 192,
    "icon-512.png": 512,
    "icon-maskable-512.png": 512,
    "apple-touch-icon-180.png": 180,
}
FULL_BLEED = ["icon-maskable-512.png", "apple-touch-icon-180.png"]


def chunks(data: bytes):
    """(type, body) of each chunk after the signature."""
    offset = len(PNG_SIGNATURE)
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        yield data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        offset += 12 + length


def header(data: bytes) -> tuple[int, int, int, int, int]:
    """Width, height, bit depth, colour type and interlace method from IHDR."""
    kind, body = next(chunks(data))
    assert kind == b"IHDR"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
    return width, height, depth, colour, interlace


def pixels(data: bytes) -> list[bytearray]:
    """The rows of an 8-bit, non-interlaced RGB or RGBA PNG, unfiltered."""
    width, height, depth, colour, interlace = header(data)
    assert (depth, interlace) == (8, 0) and colour in (2, 6), "Chromium writes 8-bit RGB(A)"
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in chunks(data) if kind == b"IDAT"))
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filter_type, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up, up_left = previous[i], previous[i - bpp] if i >= bpp else 0
            if filter_type == 1:
                row[i] = (row[i] + left) & 0xFF
            elif filter_type == 2:
                row[i] = (row[i] + up) & 0xFF
            elif filter_type == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif filter_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                row[i] = (row[i] + predictor) & 0xFF
            else:
                assert filter_type == 0, f"unknown PNG filter {filter_type}"
        rows.append(row)
        previous = row
    return rows


@pytest.mark.parametrize("name", SIZES)
def test_icon_is_a_png_of_its_exact_size(name):
    path = ICONS / name
    assert path.is_file(), f"{name} is missing: run tools/make_icons.py"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert header(data)[:2] == (SIZES[name], SIZES[name])


@pytest.mark.parametrize("name", FULL_BLEED)
def test_full_bleed_icon_is_opaque_in_every_corner(name):
    data = (ICONS / name).read_bytes()
    colour = header(data)[3]
    rows = pixels(data)
    bpp = 3 if colour == 2 else 4
    corners = [rows[y][x * bpp:(x + 1) * bpp] for y in (0, -1) for x in (0, len(rows[0]) // bpp - 1)]
    if colour == 6:
        assert [corner[3] for corner in corners] == [255] * 4
    assert len({bytes(corner[:3]) for corner in corners}) == 1, "the corners share the background colour"


def test_the_script_names_every_icon_it_must_make():
    script = SCRIPT.read_text()
    assert [name for name in SIZES if name not in script] == []
