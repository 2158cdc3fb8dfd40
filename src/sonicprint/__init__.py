"""Sonicprint: tell who made a recording (producer, artist or composer) from the audio alone."""

__version__ = "0.1.0"
