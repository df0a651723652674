"""The shipped data: verified, complete, and preprocessed to the papers' row counts."""

import gzip

import numpy as np
import pytest

from fairnotes import data


def test_raw_files_load_with_original_columns():
    adult = data.load_adult()
    assert adult.shape == (32561, 15)
    assert list(adult.columns) == data.ADULT_COLUMNS
    assert set(adult["income"]) == {"<=50K", ">50K"}
    assert adult["workclass"].isna().sum() == 1836  # the '?' of the UCI file
    both = data.load_adult(include_test=True)
    assert len(both) == 32561 + 16281
    assert set(both.loc[both["split"] == "test", "income"]) == {"<=50K", ">50K"}
    compas = data.load_compas()
    assert compas.shape == (7214, 53)
    assert {"two_year_recid", "race", "sex", "decile_score", "days_b_screening_arrest"} <= set(compas.columns)


@pytest.mark.parametrize(
    "make, rows, rates",
    [
        # rows: the papers' dataset sizes (auditability: Adult 30,940, COMPAS 6,172; FairGP: 30,162, 6,167)
        (data.adult_auditability, 30940, None),
        (data.compas_auditability, 6172, None),
        (data.adult_fairgp, 30162, {"sex": (0.1145, 0.3171), "race": (0.1562, 0.2667)}),
        (data.compas_fairgp, 6167, {"sex": (0.3432, 0.4773), "race": (0.4878, 0.3833)}),
    ],
)
def test_preprocessing_reproduces_the_papers_row_counts(make, rows, rates):
    d = make()
    assert len(d) == rows
    assert set(d.frame[d.label].unique()) == {0, 1}
    for attr, col in d.protected.items():
        assert set(d.frame[col].unique()) == {0, 1}
    if rates:
        # the FairGP authors' notes give the training-set base rates of a 2/3 split; the full
        # table's rates are within 0.01 of them and ordered the same way
        for attr, (r0, r1) in rates.items():
            br = d.base_rates(attr)
            assert br[0] == pytest.approx(r0, abs=0.01) and br[1] == pytest.approx(r1, abs=0.01)


def test_split_gives_the_auditability_paper_sizes_and_is_seeded():
    d = data.adult_auditability()
    sp = data.split(d, "race", test_size=0.2, seed=0)
    assert sp.X_train.shape[0] == 24752 and sp.X_test.shape[0] == 6188
    assert sp.X_train.dtype == np.float32
    assert sp.feature_names[sp.s_column] == "race"
    # the protected columns are raw 0/1, not standardized
    assert set(np.unique(sp.X_train[:, sp.s_column])) == {0.0, 1.0}
    np.testing.assert_array_equal(sp.X_train[:, sp.s_column], sp.s_train)
    np.testing.assert_array_equal(sp.X_test[:, sp.s_columns["sex"]], sp.S_test["sex"])
    # other columns are standardized with the training part's statistics
    other = [i for i in range(sp.n_features) if i not in sp.s_columns.values()]
    assert np.allclose(sp.X_train[:, other].mean(axis=0), 0, atol=1e-4)
    assert not np.allclose(sp.X_test[:, other].mean(axis=0), 0, atol=1e-4)
    again = data.split(d, "race", test_size=0.2, seed=0)
    np.testing.assert_array_equal(sp.X_test, again.X_test)
    other_seed = data.split(d, "race", test_size=0.2, seed=1)
    assert not np.array_equal(sp.test_index, other_seed.test_index)
    c = data.split(data.compas_auditability(), "sex", test_size=0.2)
    assert (len(c.y_train), len(c.y_test)) == (4937, 1235)


def test_split_without_the_protected_attribute_and_ordinal_encoding():
    d = data.adult_fairgp()
    sp = data.split(d, "sex", test_size=1 / 3, s_as_input=False, encoding="ordinal", stratify=True)
    assert sp.s_column is None
    assert "sex" not in sp.feature_names and "race" in sp.feature_names
    assert sp.n_features == 12  # the 12 columns other than fnlwgt, the label and sex
    # the benchmark's GP inputs: neither protected attribute, every category one-hot (no level dropped)
    bench = data.split(d, "sex", test_size=1 / 3, s_as_input=False, other_protected=False,
                       encoding="onehot", drop_first=False, stratify=True)
    assert "race" not in bench.feature_names and "sex" not in bench.feature_names
    assert bench.s_columns == {} and list(bench.S_train.columns) == ["race", "sex"]
    np.testing.assert_array_equal(bench.s_train, sp.s_train)      # same rows, same split
    # stratified: the (label, group) proportions agree between the parts
    for y in (0, 1):
        for s in (0, 1):
            a = np.mean((sp.y_train == y) & (sp.s_train == s))
            b = np.mean((sp.y_test == y) & (sp.s_test == s))
            assert a == pytest.approx(b, abs=0.002)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"attribute": "age"}, ValueError, "unknown protected attribute 'age'"),
        ({"attribute": "race", "test_size": 0}, ValueError, "test_size must be a number strictly between 0 and 1"),
        ({"attribute": "race", "test_size": 1.5}, ValueError, "test_size"),
        ({"attribute": "race", "encoding": "hash"}, ValueError, "encoding must be"),
        ({"attribute": "race", "other_protected": "no"}, ValueError, "other_protected must be True or False"),
    ],
)
def test_split_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.split(data.compas_auditability(), **kwargs)


def test_base_rates_unknown_attribute():
    with pytest.raises(ValueError, match="unknown protected attribute"):
        data.adult_fairgp().base_rates("age")


def test_checksum_mismatch_is_an_error_not_a_silent_reload(tmp_path):
    bad = tmp_path / "adult.data.gz"
    bad.write_bytes(gzip.compress(b"39, State-gov, 77516\n"))
    with pytest.raises(data.DataIntegrityError, match="checksum mismatch for adult.data"):
        data._read_raw("adult.data", path=bad)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(data.DataIntegrityError, match="not a valid gzip"):
        data._read_raw("adult.data", path=broken)
    with pytest.raises(data.DataIntegrityError, match="missing"):
        data._read_raw("adult.data", path=tmp_path / "nowhere.gz")
    with pytest.raises(ValueError, match="unknown data file"):
        data._read_raw("iris.csv")


def test_split_documents_every_field():
    """Split's Attributes section names each of its fields (a new field needs its line there)."""
    import dataclasses
    import re

    doc = data.Split.__doc__
    section = doc.split("Attributes\n    ----------\n", 1)[1]
    documented = {name.strip() for line in re.findall(r"^    (\w[\w, ]*) : ", section, re.M)
                  for name in line.split(",")}
    fields = {f.name for f in dataclasses.fields(data.Split)}
    assert fields <= documented, f"Split fields without a line in its Attributes section: {sorted(fields - documented)}"
