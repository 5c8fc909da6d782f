"""Errors, units, sourced quantities and file reading: what every stage shares."""

__version__ = "0.1.0"
