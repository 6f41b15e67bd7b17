"""Writes of the physical world, one file per use case."""
