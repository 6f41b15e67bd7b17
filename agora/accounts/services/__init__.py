"""Writes of accounts. One file per use case; import from the submodules."""
