"""Data files shipped with :mod:`optimizer.mcdm` (the criteria catalog, ``catalog.toml``)."""
