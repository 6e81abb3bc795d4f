"""Visit logs (Begleitungsprotokolle): what happened at one visit, written offline and synced."""
