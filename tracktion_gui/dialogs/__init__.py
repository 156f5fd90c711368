"""Dialogs: first run, settings, bulk edit."""
