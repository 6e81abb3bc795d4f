"""Assignments: an accepted offer — who accompanies whom, when and where."""
