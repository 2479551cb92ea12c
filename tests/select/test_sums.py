"""Sums over a 0/1 relation read in slices (no conversion of the relation to numbers)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import optimizer.select.sums as sums_module
from optimizer.select.sums import column_sums, row_sums


@pytest.mark.parametrize("chunk", [1, 5, 64, 1 << 20])
def test_column_sums_are_the_transposed_product_in_any_slicing(chunk, monkeypatch):
    """Column sums equal ``relation.T @ values`` computed densely, whatever the slice
    size, with empty rows first, inside and last, and with most values zero (only the
    other rows are read) or none."""
    monkeypatch.setattr(sums_module, "CHUNK_NONZEROS", chunk)
    rng = np.random.default_rng(chunk)
    dense = rng.random((70, 9)) < 0.3
    dense[[0, 33, 69]] = False
    values = rng.integers(1, 50, 70).astype(float)
    sparse_values = np.where(rng.random(70) < 0.7, 0.0, values)
    for v in (values, sparse_values, np.zeros(70)):
        np.testing.assert_array_equal(column_sums(sp.csr_array(dense), v), dense.T.astype(float) @ v)


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_row_sums_of_a_selection_count_the_selected_units_in_reach(chunk, monkeypatch):
    """For a 0/1 selection, row sums from either layout are the number of selected
    units reaching each row (what the result's coverage counts use)."""
    monkeypatch.setattr(sums_module, "CHUNK_NONZEROS", chunk)
    rng = np.random.default_rng(7)
    dense = rng.random((50, 12)) < 0.25
    selected = rng.random(12) < 0.4
    expected = dense[:, selected].sum(axis=1)
    for layout in (sp.csr_array, sp.csc_array):
        np.testing.assert_array_equal(row_sums(layout(dense), selected.astype(float)), expected)
