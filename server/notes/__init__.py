"""Notes (Notizen): free text about a client or an assignment, written offline and synced."""
