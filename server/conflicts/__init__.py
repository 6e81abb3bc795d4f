"""Conflicts (R6, R7, R14): values that could not be taken, shown side by side until a person decides."""
