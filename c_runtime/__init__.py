"""The C99 runtime sources, shipped as package data (C kernels arrive with the C issue)."""
import os


def path():
    """The folder holding the C runtime sources."""
    return os.path.dirname(os.path.abspath(__file__))
