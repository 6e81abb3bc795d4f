"""Make the PWA's PNG icons from the one source, pwa/static/icons/icon.svg.

This script is the one way the PNGs are made: after editing icon.svg, rerun

    .venv/bin/python tools/make_icons.py

and commit the PNGs it rewrites. It renders with Debian's Chromium
(apt-get install chromium) through the `playwright` package; no server and no
`playwright install` are needed.

- icon-192.png, icon-512.png: the SVG as it is (purpose "any"; its transparent
  corners stay transparent).
- icon-maskable-512.png: the artwork shrunk until every painted pixel lies in the
  maskable safe zone (a circle of radius 40 % of the size around the centre), on a
  full-bleed square of the icon's background colour, so no Android mask cuts into it.
- apple-touch-icon-180.png: the SVG on a full-bleed square of the background
  colour, without transparency (iOS rounds the corners itself).
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ICONS = Path(__file__).resolve().parents[1] / "pwa" / "static" / "icons"
SOURCE = ICONS / "icon.svg"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEFAULT_BACKGROUND = "#1d5c63"
SAFE_RADIUS = 0.4  # of the icon's size: the maskable safe zone
SVG_NS = "http://www.w3.org/2000/svg"

# file name, size in pixels, kind: "any" (the SVG as it is), "maskable" or "apple" (full-bleed)
OUTPUTS = [
    ("icon-192.png", 192, "any"),
    ("icon-512.png", 512, "any"),
    ("icon-maskable-512.png", 512, "maskable"),
    ("apple-touch-icon-180.png", 180, "apple"),
]

# The distance of the painted pixel farthest from the centre, as a fraction of the size.
ARTWORK_RADIUS_JS = """async (src) => {
  const n = 512, img = new Image(n, n);
  img.src = src;
  await img.decode();
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = n;
  const context = canvas.getContext("2d");
  context.drawImage(img, 0, 0, n, n);
  const alpha = context.getImageData(0, 0, n, n).data;
  let radius = 0;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      if (alpha[4 * (y * n + x) + 3]) radius = Math.max(radius, Math.hypot(x + 0.5 - n / 2, y + 0.5 - n / 2));
  return (radius + 1) / n;
}"""


def data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def split_background(svg: str) -> tuple[str, str]:
    """The background colour (the fill of a rect covering the whole viewBox, else the
    default) and the artwork: the SVG without that rect, drawn at 512x512."""
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(svg)
    view_size = tuple(root.get("viewBox", "").replace(",", " ").split()[2:])
    background = DEFAULT_BACKGROUND
    for rect in root.findall(f"{{{SVG_NS}}}rect"):
        size = (rect.get("width"), rect.get("height"))
        at_origin = rect.get("x", "0") == rect.get("y", "0") == "0"
        if at_origin and size in {view_size, ("100%", "100%")} and rect.get("fill"):
            background = rect.get("fill")
            root.remove(rect)
            break
    root.set("width", "512")
    root.set("height", "512")
    return background, ET.tostring(root, encoding="unicode")


def render(page: Page, path: Path, size: int, src: str, background: str | None, scale: float) -> None:
    side = size * scale
    body = f"margin:0;background:{background or 'transparent'}"
    img = f"position:absolute;left:{(size - side) / 2}px;top:{(size - side) / 2}px;width:{side}px;height:{side}px"
    page.set_viewport_size({"width": size, "height": size})
    page.set_content(f'<!doctype html><body style="{body}"><img src="{src}" style="{img}">')
    page.wait_for_function("document.images[0].complete")
    page.screenshot(path=path, omit_background=background is None)


def main() -> None:
    svg = SOURCE.read_text()
    background, artwork = split_background(svg)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 512, "height": 512}, device_scale_factor=1)
        maskable_scale = min(1.0, SAFE_RADIUS / page.evaluate(ARTWORK_RADIUS_JS, data_url(artwork)))
        print(f"background {background}, maskable artwork scaled by {maskable_scale:.3f}")
        for name, size, kind in OUTPUTS:
            scale = maskable_scale if kind == "maskable" else 1.0
            render(page, ICONS / name, size, data_url(svg), None if kind == "any" else background, scale)
            print(f"{name}: {size}x{size}, {(ICONS / name).stat().st_size} bytes")
        browser.close()


if __name__ == "__main__":
    main()
