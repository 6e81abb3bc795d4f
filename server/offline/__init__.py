"""The installable, offline app shell: service worker, manifest, offline page and offline pack."""
