"""Export from PyTorch (being written)."""
