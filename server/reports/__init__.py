"""Figures for coordinators and funders: the dashboard, period reports, CSV."""
