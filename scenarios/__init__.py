"""Shipped scenarios (installed as ``optimizer.scenarios``)."""
