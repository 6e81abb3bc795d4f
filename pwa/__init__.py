"""The progressive web app: templates, static files, translations and the service worker."""

from pathlib import Path

ROOT = Path(__file__).parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
LOCALES = ROOT / "locales"
