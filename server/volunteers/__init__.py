"""Volunteers as coordinators manage them: create, edit, invite, pledge, devices, deactivate."""
