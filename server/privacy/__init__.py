"""Privacy: the audit of who read a client's data, GDPR export and erasure, retention, offboarding."""
