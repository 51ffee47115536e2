"""Emulator of the Speech to text custom-models API."""
