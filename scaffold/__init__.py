"""scaffold: PyTorch training loops that are right by construction, and prove it."""

__version__ = "0.4.0"
