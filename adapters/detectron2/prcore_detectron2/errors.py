"""The adapter's one error type: bad user input, printed by the CLI as one line."""

from __future__ import annotations


class AdapterInputError(ValueError):
    """A missing or unusable config, weights file, ground truth or image."""
