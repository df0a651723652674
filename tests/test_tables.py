"""fairnotes.tables: the book's one table style (integers as integers, 2-3 significant decimals, %, n/a)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from fairnotes import tables


@pytest.mark.parametrize("value, text", [
    (24752, "24,752"), (np.int64(24752), "24,752"), (24752.0, "24,752"), (624.0, "624"), (0.0, "0"),
    (0.83512, "0.835"), (-0.0912, "-0.091"), (47.2134, "47.2"), (3.14159, "3.14"), (1015.4, "1,015"),
    (np.float32(0.5), "0.500"), (np.nan, "n/a"), (None, "n/a"), (pd.NA, "n/a"), (True, "yes"),
    (np.bool_(False), "no"), ("White", "White"), (3.1e-8, "3.1e-08"), (-2e-5, "-2.0e-05"),
])
def test_format_number(value, text):
    assert tables.format_number(value) == text


def test_format_number_with_fixed_decimals():
    assert tables.format_number(0.83512, decimals=1) == "0.8"
    assert tables.format_number(1234.5678, decimals=2) == "1,234.57"
    assert tables.format_number(0.0004, decimals=2) == "4.0e-04"        # a small number is not shown as 0


def test_column_formatter_lines_a_column_up():
    fmt = tables.column_formatter([0.5, 12.345, np.nan])
    assert [fmt(x) for x in (0.5, 12.345, np.nan)] == ["0.5", "12.3", "n/a"]   # decimals by the largest
    ints = tables.column_formatter([624.0, 241.0, 24752.0])               # counts stored as floats
    assert [ints(x) for x in (624.0, 24752.0)] == ["624", "24,752"]
    pct = tables.column_formatter([25.61, 3.2], percent=True)
    assert [pct(x) for x in (25.61, 3.2)] == ["25.6%", "3.2%"]
    fixed = tables.column_formatter([0.5, 0.25], decimals=3)
    assert fixed(0.5) == "0.500"
    assert fmt("text") == "text" and fmt(True) == "True"
    assert tables.column_formatter([np.nan, None])(np.nan) == "n/a"       # an empty column


def _cells(styler):
    html = styler.to_html()
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)], html


def test_show_formats_every_column_by_the_rules():
    df = pd.DataFrame({"group": ["White", "non-White"], "n": [24752.0, 624.0], "rate": [25.61, 3.2],
                       "TPR": [0.8351234, np.nan], "changed": [241, 3]})
    cells, html = _cells(tables.show(df, percent="rate"))
    assert cells == ["White", "24,752", "25.6%", "0.835", "241", "non-White", "624", "3.2%", "n/a", "3"]
    assert 'class="fn-table dataframe"' in html
    assert "text-align: right" in html and "text-align: left" in html and "tabular-nums" in html
    assert "row_heading" not in html                                     # a RangeIndex is not shown
    for cell in cells:                                                   # the rules the rendered book checks
        assert not re.fullmatch(r"-?[\d,]+\.0+", cell), cell
        assert not re.search(r"\d\.\d{4,}", cell), cell


def test_show_takes_decimals_captions_series_and_index():
    df = pd.DataFrame({"DI": [0.61113, 0.5], "accuracy": [0.8312, 0.8]}, index=pd.Index(["GP", "FairGP"], name="model"))
    cells, html = _cells(tables.show(df, decimals={"DI": 2}, caption="Table 1 of the paper"))
    assert cells == ["0.61", "0.831", "0.50", "0.800"]
    assert "Table 1 of the paper" in html and ">GP<" in html.replace(" ", "")
    cells, _ = _cells(tables.show(df, decimals=1))
    assert cells == ["0.6", "0.8", "0.5", "0.8"]
    cells, html = _cells(tables.show(df["DI"]))
    assert cells == ["0.611", "0.500"]
    _, html = _cells(tables.show(df, index=False))
    assert ">GP<" not in html.replace(" ", "")
    _, html = _cells(tables.show(df, hide_index_names=True))
    assert "index_name" not in html


def test_show_refuses_bad_input():
    df = pd.DataFrame({"a": [1.0]})
    with pytest.raises(TypeError, match="DataFrame or Series"):
        tables.show([[1, 2]])
    with pytest.raises(ValueError, match=r"no column\(s\) \['b'\]"):
        tables.show(df, percent="b")
    with pytest.raises(ValueError, match="no column"):
        tables.show(df, decimals={"b": 2})
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="decimals"):
            tables.show(df, decimals=bad)


@pytest.fixture
def pandas_options():
    keys = ("display.float_format", "styler.format.thousands", "styler.format.na_rep")
    saved = {k: pd.get_option(k) for k in keys}
    yield
    for k, v in saved.items():
        pd.set_option(k, v)


def test_use_book_tables_makes_plain_displays_follow_the_rules(pandas_options):
    tables.use_book_tables()
    df = pd.DataFrame({"n": [624.0, 24752.0], "rate": [0.123456, np.nan]})
    html = df.to_html()
    assert "624" in html and "624.0" not in html and "24,752" in html
    assert "0.123" in html and "0.123456" not in html
    assert "24,752" in df.to_string()
    styled = df.style.to_html()
    assert "n/a" in styled


def test_show_formats_number_labels_of_the_index_and_columns():
    """A float index level (a target TPR of 0.6) is not printed as pandas' '0.600000'."""
    t = pd.DataFrame({"accuracy": [0.81, 0.79]},
                     index=pd.MultiIndex.from_tuples([("FairGP", 0.6), ("FairGP", 1.0)], names=["model", "target TPR"]))
    html = tables.show(t).to_html()
    assert "0.600000" not in html and "1.000000" not in html
    assert ">0.60<" in html and ">1.00<" in html
    wide = pd.DataFrame([[1.0, 2.0]], columns=pd.Index([0.25, 0.5], name="sigma"))
    html = tables.show(wide).to_html()
    assert "0.250000" not in html and ">0.250<" in html


def test_show_has_a_plain_text_form_without_a_memory_address():
    t = pd.DataFrame({"group": ["White", "non-White"], "count": [24752.0, 6188.0]})
    text = repr(tables.show(t))
    assert " at 0x" not in text and "24,752" in text and "non-White" in text
