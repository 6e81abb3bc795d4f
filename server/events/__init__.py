"""Events (Stammtisch, training, supervision) with answers and attendance, and the
qualification modules volunteers complete — by a training they attended or as recorded."""
