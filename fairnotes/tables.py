"""The book's one table style: numbers formatted for reading.

First used in the chapter :doc:`/book/data`; every chapter shows its tables through :func:`show`
(or relies on :func:`use_book_tables`, which :func:`fairnotes.plots.use_book_style` calls, for the
plain ``DataFrame`` display).

The rules, in every chapter:

* integers as integers, with thousands separators (``24,752``, never ``24752.0``);
* other numbers with two or three significant decimals, chosen by the column's size (``0.835``,
  ``47.2``, ``1,015``), never more than three decimals; a non-zero number too small for them in
  scientific notation (``3.1e-08``), never as ``0``;
* shares given as percentages with a ``%`` sign (``percent=``);
* a missing value as ``n/a``;
* numbers right-aligned in tabular figures, text left-aligned; cells padded (the book's CSS,
  ``_static/fairnotes.css``, pads every output table, and a wide table scrolls inside its own box).

Names instead of codes and the definition of every abbreviation are the chapter's job.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from pandas.io.formats.style import Styler

__all__ = ["format_number", "column_formatter", "show", "use_book_tables", "NA"]

#: How a missing value is shown.
NA = "n/a"


def _decimals_for(magnitude: float) -> int:
    """Decimals that give two or three significant digits for numbers of this size."""
    if not math.isfinite(magnitude) or magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 3


def format_number(x, decimals: int | None = None) -> str:
    """One number as the book prints it: integers with separators, others with 2-3 decimals.

    ``decimals`` fixes the number of decimals; otherwise it follows the number's size. A missing
    value is :data:`NA`. See the chapter :doc:`/book/data`.
    """
    if x is None or (isinstance(x, (float, np.floating)) and math.isnan(x)) or x is pd.NA:
        return NA
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if decimals is None:
            if math.isfinite(x) and x == round(x) and abs(x) < 1e15:
                return f"{int(round(x)):,}"
            decimals = _decimals_for(abs(x))
        if x != 0 and math.isfinite(x) and abs(x) < 0.5 * 10 ** (-decimals):
            return f"{x:.1e}"   # a small non-zero number is not shown as 0
        return f"{x:,.{decimals}f}"
    return str(x)


def column_formatter(values, *, percent: bool = False, decimals: int | None = None):
    """A formatter for one column: one number of decimals for the whole column, chosen by its largest
    value (so that its numbers line up), integers as integers, ``percent`` adds ``%``.

    See the chapter :doc:`/book/data`.
    """
    arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(float)
    finite = arr[np.isfinite(arr)]
    integral = finite.size > 0 and bool(np.all(finite == np.round(finite))) and decimals is None
    if decimals is None:
        decimals = 0 if integral else _decimals_for(float(np.max(np.abs(finite))) if finite.size else 0.0)
        if percent and not integral:
            decimals = min(decimals, 1)
    suffix = "%" if percent else ""

    def fmt(x):
        if x is None or x is pd.NA or (isinstance(x, (float, np.floating)) and math.isnan(x)):
            return NA
        if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
            return str(x)
        x = float(x)
        if x != 0 and math.isfinite(x) and abs(x) < 0.5 * 10 ** (-decimals):
            return f"{x:.1e}{suffix}"   # a small non-zero number is not shown as 0
        return f"{x:,.{decimals}f}{suffix}"

    return fmt


class _BookStyler(Styler):
    """A ``Styler`` whose plain-text form is the formatted table (pandas' own is ``<... at 0x...>``),
    for a terminal, a plain-text notebook export or a screen reader that takes ``text/plain``."""

    def __repr__(self) -> str:
        return self.to_string(delimiter="  ").rstrip("\n")


def _as_set(cols) -> set:
    if cols is None:
        return set()
    if isinstance(cols, str):
        return {cols}
    return set(cols)


def show(table, *, percent: Iterable | str | None = None, decimals: Mapping | int | None = None,
         caption: str | None = None, index: bool = True, hide_index_names: bool = False):
    """A DataFrame (or Series) styled for reading in the book (a pandas ``Styler``).

    See the chapter :doc:`/book/data`.

    Parameters
    ----------
    table : DataFrame or Series
        The table to show; its column names are shown as they are (use readable names).
    percent : column name or names, optional
        Columns that hold percentages (0-100): shown with a ``%`` sign.
    decimals : int or mapping of column to int, optional
        Fixed decimals for every number column or for the columns named; other columns follow the
        rules of the module (integers as integers, two or three significant decimals).
    caption : str, optional
        A caption shown above the table.
    index : bool
        Show the index (True) or hide it.
    hide_index_names : bool
        Hide the name of the index (its header cell).

    Returns
    -------
    pandas.io.formats.style.Styler
        Displayed by Jupyter and by the book as an HTML table with the class ``fn-table``.

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame or Series.
    ValueError
        If ``percent`` or ``decimals`` names a column the table does not have.
    """
    if isinstance(table, pd.Series):
        table = table.to_frame()
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"show() takes a DataFrame or Series, got {type(table).__name__}")
    pct = _as_set(percent)
    per_col = dict(decimals) if isinstance(decimals, Mapping) else {}
    unknown = (pct | set(per_col)) - set(table.columns)
    if unknown:
        raise ValueError(f"show(): no column(s) {sorted(map(str, unknown))} in the table; "
                         f"its columns are {list(map(str, table.columns))}")
    if decimals is not None and not isinstance(decimals, Mapping):
        if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)) or decimals < 0:
            raise ValueError(f"decimals must be an integer >= 0 or a mapping of columns to integers, got {decimals!r}")
    styler = _BookStyler(table)
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])
               and not pd.api.types.is_bool_dtype(table[c])]
    formats = {}
    for c in numeric:
        d = per_col.get(c, decimals if isinstance(decimals, (int, np.integer)) else None)
        formats[c] = column_formatter(table[c], percent=c in pct, decimals=d)
    for c in table.columns:
        if c not in formats:
            formats[c] = lambda x: NA if x is None or (isinstance(x, float) and math.isnan(x)) else (
                format_number(x) if isinstance(x, (int, float, np.integer, np.floating, bool, np.bool_)) else str(x))
    styler = styler.format(formats)
    for axis, labels in ((0, table.index), (1, table.columns)):   # number labels follow the rules too
        for level in range(labels.nlevels):
            values = labels.get_level_values(level)
            if pd.api.types.is_float_dtype(values):
                styler = styler.format_index(column_formatter(values), axis=axis, level=level)
    if isinstance(table.index, pd.RangeIndex) or not index:
        styler = styler.hide(axis="index")
    if hide_index_names:
        styler = styler.hide(axis="index", names=True)
    styler = styler.set_table_attributes('class="fn-table dataframe"')
    text_cols = [c for c in table.columns if c not in numeric]
    if text_cols:
        styler = styler.set_properties(subset=text_cols, **{"text-align": "left"})
    if numeric:
        styler = styler.set_properties(subset=numeric, **{"text-align": "right",
                                                          "font-variant-numeric": "tabular-nums"})
    if caption:
        styler = styler.set_caption(caption)
    return styler


def _display_float(x: float) -> str:
    return format_number(x)


def use_book_tables() -> None:
    """Plain ``DataFrame`` displays follow the book's number rules too (pandas' ``display``
    options): integer-valued floats as integers with separators, others with two or three
    significant decimals. :func:`fairnotes.plots.use_book_style` calls it. See the chapter
    :doc:`/book/data`.
    """
    pd.set_option("display.float_format", _display_float)
    pd.set_option("styler.format.thousands", ",")
    pd.set_option("styler.format.na_rep", NA)
