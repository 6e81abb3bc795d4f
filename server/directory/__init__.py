"""Wegweiser: the local directory, how-tos, and the follow-up of visits that need professional help."""
