"""Tradewind: author pipelines as Python, schedule and run them, drive them through /api/v1.

This module exports the public authoring names only; importing it reads no
configuration, opens no database and starts nothing.
"""

from __future__ import annotations

__version__ = "0.1.0"
