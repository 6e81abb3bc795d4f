"""Piccolo migrations of the `lotsenbuch` app; generated, never edited after landing."""
