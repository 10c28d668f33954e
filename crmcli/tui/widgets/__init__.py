"""Widgets shared by crm tui's screens."""
