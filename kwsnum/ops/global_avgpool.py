"""Placeholder: being written."""
OPS = []
