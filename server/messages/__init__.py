"""Messages from coordination to all volunteers or a filtered group, read in the app's inbox."""
