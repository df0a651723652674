"""FairGP: Gaussian process classification that predicts a target label (GPflow / TensorFlow).

Explained in the chapters :doc:`/book/target_labels` (the likelihood),
:doc:`/book/fairgp_parity` (the model and its training) and :doc:`/book/fairgp_opportunity`.

The model of Kehrenberg, Chen & Quadrianto: a sparse variational GP (SVGP, Hensman et al.) with a
squared-exponential ARD kernel whose latent function ``f`` predicts a latent target label ``ybar``
through the probit link, ``p(ybar = 1 | f) = Phi(f)``, while it is trained on the observed labels
``y`` through the likelihood (the paper's Eq. 2)::

    p(y | f, s) = sum_{ybar in {0,1}} P(y | ybar, s) p(ybar | f).

:class:`FairGPLikelihood` computes it in log space and its variational expectation with
Gauss-Hermite quadrature; the debiasing parameters ``P[s, ybar] = P(y=1 | ybar, s)`` come from
:mod:`fairnotes.target_labels` (numpy only). :class:`FairGP` builds and trains the
model: ``s`` reaches the likelihood only (*FairGP*) or also the kernel (*FairGP\\**,
``s_as_input=True``). Besides the book's probit link with quadrature, the likelihood takes the
logistic link with Monte Carlo expectations (:data:`LINKS`, ``mc_samples``), and :class:`FairGP`
the other pieces of the paper's authors' training (a learning-rate drop, an unwhitened posterior,
inducing inputs every ``n // M``-th row, a fixed length scale for ``s``; the settings are
:data:`fairnotes.presets.FAIRGP_AUTHORS_FIT`); :func:`scale_by_maximum` gives their inputs.

Importing this module imports TensorFlow and GPflow (a few seconds); they come with the extra
``pip install 'fairnotes[gp]'`` (which also pins numpy<2 for GPflow 2.11). ``import fairnotes`` and
every other module work without them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Optional, Sequence

from fairnotes._tensorflow import import_tensorflow, quiet_startup

try:
    tf = import_tensorflow()  # without TensorFlow's start-up lines (real warnings still show)
    with quiet_startup():
        import gpflow  # noqa: E402
except ImportError as _missing:  # the core of fairnotes works without them; only this module needs them
    raise ImportError(f"fairnotes.fairgp needs TensorFlow and GPflow ({_missing}): install the extra with "
                      "pip install 'fairnotes[gp]' (it also installs numpy<2, which GPflow 2.11 requires; "
                      "restart the Python session afterwards)") from _missing

import numpy as np  # noqa: E402
from gpflow.likelihoods import ScalarLikelihood  # noqa: E402
from gpflow.likelihoods.utils import inv_probit  # noqa: E402

from fairnotes import _history, metrics, runtime  # noqa: E402
from fairnotes._validation import positive_int  # noqa: E402
from fairnotes.target_labels import check_parameters, identity_parameters  # noqa: E402

__all__ = [
    "FairGPLikelihood",
    "LINKS",
    "INDUCING_STARTS",
    "scale_by_maximum",
    "S_KERNELS",
    "pack_labels",
    "FairGP",
    "build_svgp",
    "predict_proba_tf",
    "make_train_step",
]


def pack_labels(y, s) -> np.ndarray:
    """``Y = [y, s]`` as a float64 array of shape (N, 2): how ``s`` reaches :class:`FairGPLikelihood`.

    GPflow hands ``Y`` to the likelihood untouched, so packing ``s`` next to ``y`` lets the
    likelihood see ``s`` while the kernel never does. See the chapter :doc:`/book/target_labels`.
    """
    y = np.asarray(y).reshape(-1)
    s = np.asarray(s).reshape(-1)
    if y.shape != s.shape:
        raise ValueError(f"y and s must have the same length, got {y.shape} and {s.shape}")
    for name, v in (("y", y), ("s", s)):
        if not np.isin(v, (0, 1)).all():
            raise ValueError(f"{name} must contain only 0 and 1")
    return np.stack([y, s], axis=1).astype(np.float64)


class FairGPLikelihood(ScalarLikelihood):
    """The FairGP likelihood: a Bernoulli on ``y`` that marginalises the target label ``ybar``.

    ``log p(y | f, s) = logsumexp_{ybar} [log P(y | ybar, s) + log p(ybar | f)]`` with
    ``p(ybar = 1 | f) = invlink(f)`` (default: GPflow's ``inv_probit``, the link of
    ``gpflow.likelihoods.Bernoulli``; with the identity parameters its log probability and
    variational expectations are GPflow's Bernoulli's up to rounding, and its predictive density is
    the same expression as Bernoulli's, bit for bit). Everything is in log space,
    so parameters equal to 0 or 1 give ``log 0 = -inf`` terms that ``logsumexp`` ignores, never
    NaN. The variational expectation uses GPflow's Gauss-Hermite quadrature
    (``num_gauss_hermite_points``, 20 as GPflow's default) over the 1-D Gaussian ``q(f)``, or, with
    ``mc_samples``, the mean over that many Gaussian draws per row (new draws at every call, from a
    seeded stateless generator: the FairGP authors' Monte Carlo expectations). The predictive
    density is computed in closed form, not by quadrature:
    ``p(y = 1 | x, s) = P[s, 0] (1 - p) + P[s, 1] p`` with ``p = p(ybar = 1 | x)``, which is
    ``Phi(mu / sqrt(1 + var))`` for the probit link (for another link, ``p`` is a 50-point
    Gauss-Hermite mean of ``invlink(f)``; quadrature of the whole log density would be off by
    nats in the tails, where ``q(f)`` is far from 0).

    Parameters
    ----------
    parameters
        ``P[s, ybar] = P(y = 1 | ybar, s)``, shape (2, 2), e.g. from :func:`fairnotes.target_labels.parity_parameters`.
        Stored in a non-trainable variable; change it with :meth:`set_parameters`.
    s_column
        ``None`` (default): ``Y`` has two columns ``[y, s]`` (:func:`pack_labels`). An integer: ``Y``
        is ``y`` alone and ``s`` is column ``s_column`` of ``X`` -- a column the kernel must not see
        (give the kernel ``active_dims`` without it).
    invlink
        ``p(ybar = 1 | f)``: a TensorFlow function, or a name of :data:`LINKS` (``"probit"``,
        ``"logistic"``).
    mc_samples, mc_seed
        ``None`` (default): quadrature. An integer: Monte Carlo expectations with that many draws
        per row, seeded by ``mc_seed``.

    Notes
    -----
    See the chapter :doc:`/book/target_labels`, section "The likelihood in GPflow".
    """

    def __init__(self, parameters=None, *, s_column: Optional[int] = None,
                 invlink="probit", num_gauss_hermite_points: int = 20,
                 mc_samples: Optional[int] = None, mc_seed: int = 0) -> None:
        quadrature = gpflow.quadrature.NDiagGHQuadrature(1, num_gauss_hermite_points)
        super().__init__(quadrature=quadrature)
        if isinstance(invlink, str):
            if invlink not in LINKS:
                raise ValueError(f"invlink must be a function or one of {list(LINKS)}, got {invlink!r}")
            invlink = LINKS[invlink]
        if not callable(invlink):
            raise ValueError(f"invlink must be a function or one of {list(LINKS)}, got {invlink!r}")
        self.invlink = invlink
        self.s_column = s_column
        self.mc_samples = None if mc_samples is None else positive_int("mc_samples", mc_samples)
        # the Monte Carlo draws' seed and counter live in variables: a reused compiled step sees new values
        self._mc_seed = tf.Variable(int(mc_seed), trainable=False, dtype=tf.int64, name="mc_seed")
        self._mc_calls = tf.Variable(0, trainable=False, dtype=tf.int64, name="mc_calls")
        P = identity_parameters() if parameters is None else check_parameters(parameters)
        self._log_p1 = tf.Variable(np.zeros((2, 2)), trainable=False, dtype=gpflow.default_float(),
                                   name="log_P_y1")
        self._log_p0 = tf.Variable(np.zeros((2, 2)), trainable=False, dtype=gpflow.default_float(),
                                   name="log_P_y0")
        self.set_parameters(P)

    @property
    def debiasing_parameters(self) -> np.ndarray:
        """The debiasing parameters ``P[s, ybar] = P(y=1 | ybar, s)`` as a numpy array.

        (Not ``parameters``: ``gpflow.Module.parameters`` is the tuple of a module's Parameters.)"""
        return np.exp(self._log_p1.numpy())

    def set_parameters(self, parameters) -> None:
        """Replace the debiasing parameters (no retracing: they live in a TF variable)."""
        P = check_parameters(parameters)
        with np.errstate(divide="ignore"):
            self._log_p1.assign(np.log(P))
            self._log_p0.assign(np.log1p(-P))

    def _split(self, X, Y):
        if self.s_column is None:
            y, s = Y[..., 0], Y[..., 1]
        else:
            y, s = Y[..., 0], X[..., self.s_column]
        return y, tf.cast(s, tf.int32)

    def _scalar_log_prob(self, X, F, Y):
        y, s = self._split(X, Y)
        # log P(y | ybar, s) for ybar = 0, 1: shape [..., 2]
        log_py_given_ybar = tf.where(
            tf.expand_dims(y, -1) > 0.5, tf.gather(self._log_p1, s), tf.gather(self._log_p0, s)
        )
        if self.invlink is tf.sigmoid:   # in log space: log(1 - sigmoid(f)) = log_sigmoid(-f), finite for any f
            log_pybar = tf.stack([tf.math.log_sigmoid(-F[..., 0]), tf.math.log_sigmoid(F[..., 0])], axis=-1)
        else:
            p1 = self.invlink(F[..., 0])
            log_pybar = tf.stack([tf.math.log(1.0 - p1), tf.math.log(p1)], axis=-1)  # ybar = 0, 1
        out = tf.reduce_logsumexp(log_py_given_ybar + log_pybar, axis=-1)
        return tf.expand_dims(out, -1)

    def _variational_expectations(self, X, Fmu, Fvar, Y):
        """``E_q(f) log p(y | f, s)``: quadrature (GPflow's), or the mean over ``mc_samples`` draws."""
        if self.mc_samples is None:
            return super()._variational_expectations(X, Fmu, Fvar, Y)
        call = self._mc_calls.assign_add(1)
        eps = tf.random.stateless_normal(tf.concat([[self.mc_samples], tf.shape(Fmu)], 0),
                                         seed=tf.stack([self._mc_seed, call]), dtype=Fmu.dtype)
        F = Fmu[None] + tf.sqrt(Fvar)[None] * eps
        return tf.reduce_sum(tf.reduce_mean(self._scalar_log_prob(X, F, Y), axis=0), axis=-1)

    def _predict_log_density(self, X, Fmu, Fvar, Y):
        """``log p(y | x, s)`` in closed form: ``P[s, 0] (1 - p) + P[s, 1] p`` for ``y = 1`` (one minus it
        for ``y = 0``) with ``p = p(ybar = 1 | x)`` (``Phi(mu / sqrt(1 + var))`` for the probit link),
        the predictive probability of the target label."""
        y, s = self._split(X, Y)
        p = _predictive_probability(Fmu, Fvar, self.invlink)[..., 0]
        log_pybar = tf.stack([tf.math.log(1.0 - p), tf.math.log(p)], axis=-1)  # ybar = 0, 1 (as GPflow's Bernoulli)
        log_py_given_ybar = tf.where(
            tf.expand_dims(y, -1) > 0.5, tf.gather(self._log_p1, s), tf.gather(self._log_p0, s)
        )
        return tf.reduce_logsumexp(log_py_given_ybar + log_pybar, axis=-1)

    def _predict_mean_and_var(self, X, Fmu, Fvar):
        """The predictive mean of the *target* label: ``p(ybar = 1 | x)`` (``Phi(mu / sqrt(1 + var))``
        for the probit link)."""
        p = _predictive_probability(Fmu, Fvar, self.invlink)
        return p, p - tf.square(p)

    def _conditional_mean(self, X, F):
        return self.invlink(F)

    def _conditional_variance(self, X, F):
        p = self.invlink(F)
        return p - p ** 2


#: The links ``p(ybar = 1 | f)`` by name — the book's probit (GPflow's ``inv_probit``, as
#: ``gpflow.likelihoods.Bernoulli``) and the logistic sigmoid of the FairGP authors' code.
LINKS = {"probit": inv_probit, "logistic": tf.sigmoid}

_GH_NODES, _GH_WEIGHTS = np.polynomial.hermite.hermgauss(50)


def _predictive_probability(Fmu, Fvar, invlink=inv_probit):
    """``E[invlink(f)]`` for ``f ~ N(Fmu, Fvar)``: closed form for the probit link, else 50-point
    Gauss-Hermite quadrature."""
    if invlink is inv_probit:
        return inv_probit(Fmu / tf.sqrt(1.0 + Fvar))
    nodes = tf.constant(np.sqrt(2.0) * _GH_NODES, dtype=Fmu.dtype)
    weights = tf.constant(_GH_WEIGHTS / np.sqrt(np.pi), dtype=Fmu.dtype)
    f = Fmu[..., None] + tf.sqrt(Fvar)[..., None] * nodes
    return tf.reduce_sum(invlink(f) * weights, axis=-1)


def scale_by_maximum(X_train, *others):
    """The FairGP authors' input scaling: every column divided by its maximum over the training rows
    (columns whose maximum is not above 1e-7 are left as they are), applied to ``X_train`` and to
    each array of ``others``; their code scales only when the training inputs' smallest value is 0
    and their largest above 10, as for Adult's one-hot and raw numerical columns (give them
    unstandardised: ``recipes.fairgp_split(..., standardize=False)``). Returns the scaled arrays
    (float64) in the order given. See the chapter :doc:`/book/fairgp_parity`.
    """
    X_train = np.asarray(X_train, dtype=np.float64)
    if X_train.ndim != 2 or len(X_train) == 0:
        raise ValueError(f"X_train must be a non-empty 2-D array, got shape {X_train.shape}")
    top = X_train.max(axis=0)
    if not (X_train.min() == 0 and X_train.max() > 10):
        raise ValueError("scale_by_maximum expects unstandardised inputs (smallest value 0, largest above 10), "
                         f"as the authors' code scales only then; got {X_train.min():.3g} to {X_train.max():.3g}")
    div = np.where(top > 1e-7, top, 1.0)
    out = [X_train / div]
    for X in others:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != X_train.shape[1]:
            raise ValueError(f"every array must have X_train's {X_train.shape[1]} columns, got shape {X.shape}")
        out.append(X / div)
    return out


#: How ``s`` enters FairGP\*'s kernel (:class:`FairGP`, ``s_kernel``) — as a raw 0/1 column with its own
#: ARD lengthscale (the paper's reading), or as a group index of a coregionalisation kernel.
S_KERNELS = ("ard", "group")

#: Where the inducing inputs start (:func:`build_svgp`, ``inducing``) — a seeded random subset of the
#: training rows (the book), or every ``n // M``-th row in order (the FairGP authors' code).
INDUCING_STARTS = ("random", "stride")


def build_svgp(X, likelihood, *, num_inducing: int = 500, lengthscale: Optional[float] = None,
               active_dims: Optional[Sequence[int]] = None, num_data: Optional[int] = None,
               seed: int = 0, whiten: bool = True, s_kernel: Optional[str] = None,
               s_lengthscale: Optional[float] = None, train_s_lengthscale: bool = True,
               inducing: str = "random", q_sqrt_scale: float = 1.0) -> gpflow.models.SVGP:
    """A sparse variational GP for binary classification (the paper's Section 4.2 settings).

    Squared-exponential kernel with one lengthscale per input (ARD), initialised to
    ``lengthscale`` (default ``sqrt(D)`` for ``D`` kernel inputs: the typical distance between
    standardized points); ``num_inducing`` inducing inputs initialised at a seeded random subset
    of the rows of ``X`` (``inducing="stride"``: every ``n // M``-th row, as the FairGP authors'
    code) and trained; a full-covariance Gaussian ``q(u)`` starting at mean 0 and covariance
    ``q_sqrt_scale**2`` times the identity (in the whitened space unless ``whiten=False``).

    ``s_kernel="ard"`` (FairGP\\*'s raw 0/1 column ``s``, the last column of ``X``): its lengthscale
    starts at ``s_lengthscale`` (default: as the others) and with ``train_s_lengthscale=False``
    stays there (the kernel is then the SE kernel on the other columns times an SE kernel on ``s``
    with fixed lengthscale and unit variance: the same ARD kernel with one lengthscale held).

    ``s_kernel="group"``: the last column of ``X`` is ``s`` (0/1) and the kernel is
    ``k((x, s), (x', s')) = k_SE(x, x') B[s, s']``, the SE kernel on the other columns times a
    coregionalisation matrix ``B = w w^T + diag(kappa)`` (``gpflow.kernels.Coregion``, rank 1,
    initialised at ``w = (1, 1)``, ``kappa = (1, 1)``: a prior correlation of 0.5 between a
    person's latent values in the two groups, learned from there). The inducing inputs keep the
    ``s`` of the rows they start at: the kernel reads ``s`` as an index, so no gradient moves it.

    See the chapter :doc:`/book/fairgp_parity`, section "The model".
    """
    X = np.asarray(X, dtype=np.float64)
    n, d = X.shape
    if s_kernel not in (None, *S_KERNELS):
        raise ValueError(f"s_kernel must be None or one of {list(S_KERNELS)}, got {s_kernel!r}")
    if inducing not in INDUCING_STARTS:
        raise ValueError(f"inducing must be one of {list(INDUCING_STARTS)}, got {inducing!r}")
    if (s_lengthscale is not None or not train_s_lengthscale) and s_kernel != "ard":
        raise ValueError("s_lengthscale and train_s_lengthscale concern FairGP*'s s column: they need s_kernel='ard'")
    if s_lengthscale is not None and not s_lengthscale > 0:
        raise ValueError(f"s_lengthscale must be positive, got {s_lengthscale!r}")
    if not q_sqrt_scale > 0:
        raise ValueError(f"q_sqrt_scale must be positive, got {q_sqrt_scale!r}")
    group = s_kernel == "group"
    if group:
        if active_dims is not None:
            raise ValueError("s_kernel='group' decides the active dimensions itself (the last column is s)")
        if d < 2 or not np.isin(X[:, -1], (0.0, 1.0)).all():
            raise ValueError("s_kernel='group' needs X's last column to be s, holding only 0 and 1")
        dims = list(range(d - 1))
    else:
        dims = list(range(d)) if active_dims is None else list(active_dims)
    ls = float(np.sqrt(len(dims))) if lengthscale is None else float(lengthscale)
    s_ls = ls if s_lengthscale is None else float(s_lengthscale)
    if s_kernel == "ard" and not train_s_lengthscale:   # SE on the features times a fixed SE on s
        feature_dims = [i for i in dims if i != d - 1]
        if len(feature_dims) != len(dims) - 1:
            raise ValueError("train_s_lengthscale=False needs s (the last column of X) among the kernel's inputs")
        kernel = gpflow.kernels.SquaredExponential(lengthscales=np.full(len(feature_dims), ls), active_dims=feature_dims)
        k_s = gpflow.kernels.SquaredExponential(lengthscales=s_ls, active_dims=[d - 1])
        gpflow.set_trainable(k_s, False)
        kernel = kernel * k_s
    else:
        start = np.full(len(dims), ls)
        if s_kernel == "ard":
            start[-1] = s_ls
        kernel = gpflow.kernels.SquaredExponential(lengthscales=start,
                                                   active_dims=dims if (group or active_dims is not None) else None)
    if group:
        coregion = gpflow.kernels.Coregion(output_dim=2, rank=1, active_dims=[d - 1])
        coregion.W.assign(np.ones((2, 1)))
        kernel = kernel * coregion
    m = min(int(num_inducing), n)
    if inducing == "stride":
        Z = X[::n // m][:m].copy()
    else:
        rng = np.random.default_rng(seed)
        Z = X[rng.choice(n, size=m, replace=False)].copy()
    model = gpflow.models.SVGP(kernel, likelihood, inducing_variable=Z, num_latent_gps=1,
                               num_data=n if num_data is None else num_data, whiten=whiten)
    if q_sqrt_scale != 1.0:
        model.q_sqrt.assign(q_sqrt_scale * model.q_sqrt.numpy())
    return model


def predict_proba_tf(model: gpflow.models.SVGP, X: tf.Tensor) -> tf.Tensor:
    """``p(ybar = 1 | x)`` for the rows of ``X`` as a differentiable TensorFlow expression.

    ``X`` holds the *kernel inputs* (for FairGP\\* the features with ``s`` as the last column;
    :meth:`FairGP.kernel_inputs` builds it). Use it under ``tf.GradientTape`` to differentiate
    the predictive probability of the target label with respect to the inputs. Returns shape (N,).

    See the chapter :doc:`/book/fairgp_parity`.
    """
    mu, var = model.predict_f(X)
    return _predictive_probability(mu, var, getattr(model.likelihood, "invlink", inv_probit))[:, 0]


class FairGP:
    """Build, train and query a FairGP / FairGP\\* / plain GP classifier.

    Parameters
    ----------
    parameters
        Debiasing parameters ``P[s, ybar] = P(y=1 | ybar, s)`` (shape (2, 2)); ``None`` is the
        identity, i.e. a plain GP classifier (trained with the same code, so the comparison is
        like for like).
    s_as_input
        ``False``: FairGP, ``s`` is used by the likelihood in training only. ``True``: FairGP\\*,
        ``s`` is also the last input of the kernel, at training and prediction time.
    s_kernel
        How FairGP\\*'s kernel reads ``s`` (:data:`S_KERNELS`): ``"ard"`` (default, the paper's
        reading) a raw 0/1 column with its own ARD lengthscale ``l_s``, so a person's latent values in
        the two groups have prior correlation ``exp(-1/(2 l_s^2))``; ``"group"`` the SE kernel on the
        features times a learned 2x2 group covariance (:func:`build_svgp`), in which the groups can
        differ as much as the data say. :meth:`group_correlation` gives the learned correlation of
        either. Only with ``s_as_input=True``.
    num_inducing, batch_size, steps
        The SVGP's size and training length (the paper: 500, 500; steps not reported).
    natgrad_gamma
        Step size of natural gradients on the variational parameters ``q(u)``; ``None`` (default):
        Adam on everything, as the paper did. Natural gradients reach a good ELBO in fewer steps
        but each step costs more, and with 500 inducing points a step size of 0.1 diverged (NaN)
        on Adult in our runs; 0.01-0.03 was stable.
    learning_rate
        Adam's step size for the kernel hyperparameters and inducing inputs (and ``q(u)`` when
        natural gradients are off).
    learning_rate_drop
        ``None`` (default): a constant step size. ``(k, factor)``: the step size times ``factor``
        after step ``k`` (the FairGP authors' code: ``(10, 0.2)``).
    lengthscale, s_lengthscale, train_s_lengthscale
        Where the kernel's lengthscales start (default ``sqrt(D)``), FairGP\\*'s ``s`` lengthscale's
        start if it differs, and whether that one is learned (``s_kernel="ard"`` only; see
        :func:`build_svgp`).
    link, mc_samples
        The link ``p(ybar = 1 | f)`` (:data:`LINKS`: ``"probit"``, the book's, or ``"logistic"``, the
        authors') and ``None`` for quadrature or a number of Monte Carlo draws per row for the
        variational expectations (the authors: 1,000).
    whiten, inducing, q_sqrt_scale
        The variational posterior in GPflow's whitened space (default) or not (the authors' code),
        where the inducing inputs start (:data:`INDUCING_STARTS`) and the scale of ``q(u)``'s initial
        covariance (see :func:`build_svgp`; the authors' code starts at ``log 2`` times the identity).
    jitter
        What is added to the diagonal of ``K_uu`` before its Cholesky factor, in training and
        prediction: ``None`` GPflow's default (1e-6), or e.g. the authors' 0.01 (which keeps an
        unwhitened posterior over many identical one-hot inducing inputs finite).
    seed
        Seeds the inducing-point initialisation and the mini-batch order.
    patience
        A stopping rule instead of a fixed number of steps: with ``fit(..., validation=...,
        eval_every=k)``, stop once the held-out log density of the observed labels (see
        :meth:`fit`) has not improved for ``patience`` evaluations, and go back to the parameters of
        the best evaluation. ``steps`` is then the most steps. ``None`` (default): train ``steps``.
    progress, desc
        tqdm bar over steps via :func:`fairnotes.runtime.progress` (off in fast mode).

    Notes
    -----
    ``fit(X, y, s)`` trains; ``predict_proba(X, s)`` is ``p(ybar = 1 | x)``; ``predict`` thresholds
    it at 0.5. ``history`` is the history of every trainer (``CONTRIBUTING.md``, "Trainers"), a
    DataFrame with one row per evaluation: ``step``, ``train_elbo`` (mean of the mini-batch ELBO
    estimates since the previous row, per data point), then with ``eval_set`` ``eval_accuracy``,
    ``eval_DI`` (DIbinary = S_0 / S_1), ``eval_PR0``, ``eval_PR1`` (acceptance rates), ``eval_TPR0``,
    ``eval_TPR1``, ``eval_TNR0``, ``eval_TNR1``, ``eval_TPR``, ``eval_TNR``, ``eval_nTPRDiff`` of the
    thresholded predictions (:func:`fairnotes.metrics.prediction_summary`), with ``validation``
    ``validation_log_density``, and ``seconds`` (training time so far, evaluations excluded).
    ``best_step`` is the step whose parameters the model holds (the last step without a stopping
    rule).

    See the chapter :doc:`/book/fairgp_parity`.

    Examples
    --------
    Forty people on one feature; group 1 lies further right, and the labels accept 20% of group 0
    and 80% of group 1:

    >>> import numpy as np
    >>> from fairnotes.target_labels import parity_parameters
    >>> rng = np.random.default_rng(0)
    >>> s = np.repeat([0, 1], 20)
    >>> X = rng.normal(size=(40, 1)) + 0.8 * s[:, None]
    >>> y = (X[:, 0] + 0.3 * rng.normal(size=40) > 0.4).astype(int)
    >>> [float(y[s == g].mean()) for g in (0, 1)]
    [0.2, 0.8]

    FairGP with target labels for demographic parity at the mean rate, 50% (a tiny SVGP, trained
    for a few steps so that the example runs in a second or two; the book's models use hundreds of
    inducing points and thousands of steps):

    >>> P = parity_parameters([0.2, 0.8])
    >>> P
    array([[0. , 0.4],
           [0.6, 1. ]])
    >>> clf = FairGP(P, num_inducing=5, batch_size=40, steps=30, learning_rate=0.1, progress=False)
    >>> clf = clf.fit(X, y, s)
    >>> p = clf.predict_proba(X)                  # p(ybar = 1 | x), the target label's probability
    >>> p.shape, bool(p[y == 1].mean() > p[y == 0].mean())
    ((40,), True)
    >>> clf.history["step"].tolist()               # no eval_every: one row, at the end
    [30]

    FairGP\\* (``s_as_input=True``) reads ``s`` at prediction time too:

    >>> star = FairGP(P, s_as_input=True, num_inducing=5, batch_size=40, steps=30,
    ...               learning_rate=0.1, progress=False).fit(X, y, s)
    >>> star.predict_proba(X, s).shape
    (40,)
    >>> star.predict_proba(X)
    Traceback (most recent call last):
    ...
    ValueError: FairGP* (s_as_input=True) needs s at prediction time too
    """

    def __init__(self, parameters=None, *, s_as_input: bool = False, num_inducing: int = 500,
                 batch_size: int = 500, steps: int = 1000, natgrad_gamma: Optional[float] = None,
                 learning_rate: float = 0.01, lengthscale: Optional[float] = None,
                 s_kernel: str = "ard", patience: Optional[int] = None,
                 learning_rate_drop: Optional[tuple] = None, s_lengthscale: Optional[float] = None,
                 train_s_lengthscale: bool = True, link: str = "probit", mc_samples: Optional[int] = None,
                 whiten: bool = True, inducing: str = "random", q_sqrt_scale: float = 1.0,
                 jitter: Optional[float] = None,
                 seed: int = 0, progress: Optional[bool] = None, desc: str = "FairGP"):
        self.parameters = identity_parameters() if parameters is None else check_parameters(parameters)
        self.s_as_input = bool(s_as_input)
        if s_kernel not in S_KERNELS:
            raise ValueError(f"s_kernel must be one of {list(S_KERNELS)}, got {s_kernel!r}")
        if s_kernel != "ard" and not self.s_as_input:
            raise ValueError(f"s_kernel={s_kernel!r} says how the kernel reads s: it needs s_as_input=True (FairGP*)")
        if (s_lengthscale is not None or not train_s_lengthscale) and not (self.s_as_input and s_kernel == "ard"):
            raise ValueError("s_lengthscale and train_s_lengthscale set FairGP*'s s lengthscale: they need "
                             "s_as_input=True and s_kernel='ard'")
        if link not in LINKS:
            raise ValueError(f"link must be one of {list(LINKS)}, got {link!r}")
        if inducing not in INDUCING_STARTS:
            raise ValueError(f"inducing must be one of {list(INDUCING_STARTS)}, got {inducing!r}")
        if learning_rate_drop is not None:
            if len(learning_rate_drop) != 2 or not 0 < float(learning_rate_drop[1]) <= 1:
                raise ValueError(f"learning_rate_drop must be (steps, factor) with 0 < factor <= 1, got {learning_rate_drop!r}")
            learning_rate_drop = (positive_int("learning_rate_drop steps", learning_rate_drop[0]),
                                  float(learning_rate_drop[1]))
        self.s_kernel = s_kernel
        self.learning_rate_drop = learning_rate_drop
        self.s_lengthscale = None if s_lengthscale is None else float(s_lengthscale)
        self.train_s_lengthscale = bool(train_s_lengthscale)
        self.link = link
        self.mc_samples = None if mc_samples is None else positive_int("mc_samples", mc_samples)
        self.whiten = bool(whiten)
        self.inducing = inducing
        self.q_sqrt_scale = float(q_sqrt_scale)
        if jitter is not None and not 0 < float(jitter) < 1:
            raise ValueError(f"jitter must be None (GPflow's default) or between 0 and 1, got {jitter!r}")
        self.jitter = None if jitter is None else float(jitter)
        self.patience = None if patience is None else positive_int("patience", patience)
        self.best_step: Optional[int] = None
        self.num_inducing = positive_int("num_inducing", num_inducing)
        self.batch_size = positive_int("batch_size", batch_size)
        self.steps = positive_int("steps", steps)
        self.natgrad_gamma = natgrad_gamma
        self.learning_rate = float(learning_rate)
        self.lengthscale = lengthscale
        self.seed = int(seed)
        self.progress = progress
        self.desc = desc
        self.model: Optional[gpflow.models.SVGP] = None
        self.history = _history.frame([])
        self.train_seconds = float("nan")

    # -- inputs -----------------------------------------------------------------------------
    def kernel_inputs(self, X, s=None) -> np.ndarray:
        """The kernel's inputs: ``X`` for FairGP, ``[X, s]`` for FairGP\\* (``s`` needed then)."""
        X = np.asarray(X, dtype=np.float64)
        if not self.s_as_input:
            return X
        if s is None:
            raise ValueError("FairGP* (s_as_input=True) needs s at prediction time too")
        return np.concatenate([X, np.asarray(s, dtype=np.float64).reshape(-1, 1)], axis=1)

    # -- training ---------------------------------------------------------------------------
    def fit(self, X, y, s, *, eval_set: Optional[tuple] = None, eval_every: Optional[int] = None,
            validation: Optional[tuple] = None) -> "FairGP":
        """Train on ``(X, y, s)``.

        ``eval_set=(X, y, s)``, held-out rows, records accuracy, DIbinary and group rates in
        ``history`` every ``eval_every`` optimisation steps (mini-batches) and at the end
        (``eval_every=None``, the default: at the end only). Evaluating does not change the model.
        ``validation=(X, y, s)``, rows held out from training for the stopping rule, records
        ``validation_log_density`` every ``eval_every`` steps: the mean log probability of their
        *observed* labels under the model, ``log p(y | x, s)`` through the FairGP likelihood (the
        held-out counterpart of the ELBO's data term). The stopping rule (``patience``) watches it,
        so this set, unlike ``eval_set``, decides the model: hence its own name (the trainers'
        contract, ``CONTRIBUTING.md``, "Trainers").

        Fits of the same shape (rows, inputs, inducing inputs, kernel, optimiser settings) in one
        process reuse one compiled training step, started each time from the fit's own initial
        values and a new optimiser state: the same numbers as a newly traced step, and most of a
        second faster (the time tracing takes).
        """
        y = np.asarray(y).reshape(-1)
        s = np.asarray(s).reshape(-1)
        if eval_every is not None:
            positive_int("eval_every", eval_every)
        for name, rows in (("eval_set", eval_set), ("validation", validation)):
            if rows is not None and (not isinstance(rows, (tuple, list)) or len(rows) != 3):
                raise ValueError(f"{name} must be a tuple (X, y, s) of held-out rows")
        if self.patience is not None and (validation is None or eval_every is None):
            raise ValueError("a stopping rule (patience) needs validation=(X, y, s) and an eval_every")
        Xk = self.kernel_inputs(X, s)
        Y = pack_labels(y, s)
        n = len(Y)
        s_kernel = self.s_kernel if self.s_as_input else None

        star_ard = s_kernel == "ard"

        def build():
            lik = FairGPLikelihood(self.parameters, invlink=self.link, mc_samples=self.mc_samples, mc_seed=self.seed)
            return build_svgp(Xk, lik, num_inducing=self.num_inducing,
                              lengthscale=self.lengthscale, seed=self.seed, s_kernel=s_kernel,
                              s_lengthscale=self.s_lengthscale if star_ard else None,
                              train_s_lengthscale=self.train_s_lengthscale or not star_ard,
                              whiten=self.whiten, inducing=self.inducing, q_sqrt_scale=self.q_sqrt_scale)
        with self._gpflow_config():
            return self._fit(build, Xk, Y, n, s_kernel, star_ard, eval_set, eval_every, validation)

    def _gpflow_config(self):
        """GPflow's configuration with this model's jitter (a no-op context without one)."""
        import contextlib
        import dataclasses

        if self.jitter is None:
            return contextlib.nullcontext()
        return gpflow.config.as_context(dataclasses.replace(gpflow.config.config(), jitter=self.jitter))

    def _fit(self, build, Xk, Y, n, s_kernel, star_ard, eval_set, eval_every, validation) -> "FairGP":
        model = build()
        # Training runs on a model of the same shape kept from an earlier fit, whose compiled step
        # is reused (tracing a new one costs about as much as 150 steps); it starts from this fit's
        # initial values and a fresh optimizer, and its result is copied into ``model``.
        key = (Xk.shape, Y.shape, self.num_inducing, s_kernel, self.natgrad_gamma, self.learning_rate,
               self.learning_rate_drop, self.link, self.mc_samples, self.whiten,
               self.train_s_lengthscale or not star_ard, self.jitter)
        work, step = _compiled_step(key, build, model, Xk, Y, natgrad_gamma=self.natgrad_gamma,
                                    learning_rate=self.learning_rate, learning_rate_drop=self.learning_rate_drop)
        self.model = work  # the evaluations during training read self.model
        rows = []
        try:
            self.best_step = _train(work, step, n, steps=self.steps, batch_size=self.batch_size, seed=self.seed,
                                    rows=rows, eval_fn=self._make_eval(eval_set), eval_every=eval_every,
                                    progress=self.progress, desc=self.desc,
                                    val_fn=self._make_validation(validation), patience=self.patience)
        finally:
            self.model = None
        _copy_variables(work, model)
        if self.natgrad_gamma:
            gpflow.set_trainable(model.q_mu, False)
            gpflow.set_trainable(model.q_sqrt, False)
        self.model = model
        self.history = _history.frame(rows)
        self.train_seconds = rows[-1]["seconds"] if rows else float("nan")
        return self

    def _make_validation(self, validation):
        if validation is None:
            return None
        Xv, yv, sv = validation
        yv = np.asarray(yv).reshape(-1)
        sv = np.asarray(sv).reshape(-1)
        Xkv = tf.constant(self.kernel_inputs(Xv, sv))
        Yv = tf.constant(pack_labels(yv, sv))

        def log_density():
            # (called inside fit, which holds this model's GPflow configuration)
            out = [self.model.predict_log_density((Xkv[i:i + 5000], Yv[i:i + 5000])).numpy()
                   for i in range(0, Xkv.shape[0], 5000)]
            return float(np.mean(np.concatenate(out)))
        return log_density

    def group_correlation(self) -> float:
        """FairGP\\*: the prior correlation of one person's latent values as a member of group 0 and of
        group 1, as learned: ``exp(-1/(2 l_s^2))`` for ``s_kernel="ard"``, ``B01 / sqrt(B00 B11)``
        for ``"group"``. The closer to 1, the more the prior ties the two groups together.
        See the chapter :doc:`/book/fairgp_parity`, section "What changes the result"."""
        self.check_fitted()
        if not self.s_as_input:
            raise ValueError("FairGP's kernel does not read s: there is no group correlation (use s_as_input=True)")
        k = self.model.kernel
        if self.s_kernel == "ard":
            ls = k.kernels[1].lengthscales if isinstance(k, gpflow.kernels.Product) else k.lengthscales
            ls_s = float(np.reshape(ls.numpy(), -1)[-1])
            return float(np.exp(-0.5 / ls_s ** 2))
        B = k.kernels[1].output_covariance().numpy()
        return float(B[0, 1] / np.sqrt(B[0, 0] * B[1, 1]))

    def _make_eval(self, eval_set):
        if eval_set is None:
            return None
        Xe, ye, se = eval_set
        ye = np.asarray(ye).reshape(-1)
        se = np.asarray(se).reshape(-1)
        Xke = tf.constant(self.kernel_inputs(Xe, se))

        def evaluate():
            summary = metrics.prediction_summary(ye, (self._proba_batched(Xke) > 0.5).astype(int), s=se)
            return {f"eval_{k}": v for k, v in summary.items()}
        return evaluate

    # -- prediction -------------------------------------------------------------------------
    def _proba_batched(self, Xk, batch: int = 5000) -> np.ndarray:
        with self._gpflow_config():
            out = [predict_proba_tf(self.model, Xk[i:i + batch]).numpy() for i in range(0, Xk.shape[0], batch)]
        return np.concatenate(out) if out else np.zeros(0)

    def predict_proba(self, X, s=None) -> np.ndarray:
        """``p(ybar = 1 | x)`` (the probit of the target label), shape (N,). ``s`` only for FairGP\\*."""
        self.check_fitted()
        return self._proba_batched(tf.constant(self.kernel_inputs(X, s)))

    def predict(self, X, s=None) -> np.ndarray:
        """Predicted target labels: 1 where ``p(ybar = 1 | x) > 0.5``."""
        return (self.predict_proba(X, s) > 0.5).astype(np.int64)

    def proba_function(self) -> Callable[[tf.Tensor], tf.Tensor]:
        """A TF function ``x -> p(ybar = 1 | x)`` on kernel inputs, differentiable in ``x``.

        For FairGP\\* the last column of ``x`` is ``s``. Example::

            f = clf.proba_function()
            x = tf.constant(clf.kernel_inputs(X_test, s_test))
            with tf.GradientTape() as tape:
                tape.watch(x)
                p = f(x)
            grad = tape.gradient(p, x)
        """
        self.check_fitted()
        model = self.model

        def proba(x):
            with self._gpflow_config():
                return predict_proba_tf(model, x)
        return proba

    def check_fitted(self) -> None:
        """Raise ``RuntimeError`` unless :meth:`fit` has run."""
        if self.model is None:
            raise RuntimeError("this FairGP is not fitted: call fit() first")

    def __repr__(self) -> str:
        kind = "FairGP*" if self.s_as_input else "FairGP"
        extra = f", s_kernel={self.s_kernel!r}" if self.s_as_input and self.s_kernel != "ard" else ""
        extra += f", patience={self.patience}" if self.patience is not None else ""
        extra += f", link={self.link!r}" if self.link != "probit" else ""
        extra += f", mc_samples={self.mc_samples}" if self.mc_samples is not None else ""
        return (f"{kind}(M={self.num_inducing}, batch={self.batch_size}, steps={self.steps}{extra}, "
                f"P={np.round(self.parameters, 3).tolist()})")


def make_train_step(model, X, Y, *, natgrad_gamma=None, learning_rate=0.01, learning_rate_drop=None):
    """A compiled training step ``step(idx) -> loss`` on the rows ``idx`` of ``(X, Y)``.

    Adam (``tf_keras``: with Keras 3 installed ``tf.optimizers.Adam`` has no ``minimize``) on the
    kernel hyperparameters and inducing inputs, and either Adam or, with ``natgrad_gamma``, a
    natural-gradient step on ``q(u)`` (its own forward/backward pass, before Adam's). Works for any GPflow
    SVGP (the benchmark uses it for FairGP and for GPflow's Bernoulli alike). ``learning_rate_drop=(k,
    factor)``: Adam's step size is ``learning_rate * factor`` after step ``k``.
    See the chapter :doc:`/book/fairgp_parity`, section "The model".
    """
    return _step_and_optimizer(model, tf.constant(X), tf.constant(Y), natgrad_gamma=natgrad_gamma,
                               learning_rate=learning_rate, learning_rate_drop=learning_rate_drop)[0]


def _step_and_optimizer(model, X, Y, *, natgrad_gamma, learning_rate, learning_rate_drop=None):
    """:func:`make_train_step` on tensors or variables ``X``, ``Y``; also returns the Adam optimizer."""
    import tf_keras

    rate = learning_rate
    if learning_rate_drop is not None:   # piecewise constant in Adam's step count (the authors' drop)
        k, factor = learning_rate_drop
        rate = tf_keras.optimizers.schedules.PiecewiseConstantDecay([int(k)], [learning_rate, learning_rate * factor])
    adam = tf_keras.optimizers.Adam(rate)
    use_natgrad = bool(natgrad_gamma)
    if use_natgrad:
        gpflow.set_trainable(model.q_mu, False)
        gpflow.set_trainable(model.q_sqrt, False)
        natgrad = gpflow.optimizers.NaturalGradient(gamma=natgrad_gamma)
    adam_vars = tuple(model.trainable_variables)

    @tf.function(autograph=False)  # plain Python control flow only; skips AutoGraph's conversion
    def step(idx):
        xb, yb = tf.gather(X, idx), tf.gather(Y, idx)
        if use_natgrad:  # GPflow's documented pattern: a natural-gradient step, then Adam
            natgrad.minimize(lambda: model.training_loss((xb, yb)), [(model.q_mu, model.q_sqrt)])
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(adam_vars)
            loss = model.training_loss((xb, yb))
        adam.apply_gradients(zip(tape.gradient(loss, adam_vars), adam_vars))
        return loss

    return step, adam


#: Compiled training steps kept for reuse, by the shape of the problem — key -> (model, step, Adam,
#: X variable, Y variable). At most :data:`_COMPILED_STEPS_KEPT`, the least recently used dropped.
_COMPILED_STEPS: "OrderedDict[tuple, tuple]" = OrderedDict()
_COMPILED_STEPS_KEPT = 8


def _copy_variables(src, dst) -> None:
    """Assign every variable of the GPflow model ``src`` to ``dst``'s (the same structure), bit for bit."""
    a, b = src.variables, dst.variables
    if len(a) != len(b) or any(u.shape != v.shape or u.dtype != v.dtype for u, v in zip(a, b)):
        raise RuntimeError("internal error: two FairGP models of different structure share a training step")
    for u, v in zip(a, b):
        v.assign(u)


def _compiled_step(key, build, model, X, Y, *, natgrad_gamma, learning_rate, learning_rate_drop=None):
    """A training model with ``model``'s initial values and its compiled step, reused for ``key``.

    On the first use of ``key`` a second model is built (``build()``) and its step traced, on the
    data held in variables; later uses assign the new data and initial values and reset Adam's
    iteration count and moments to zero, the state of a new optimizer, so a fit gives the same
    numbers as with a newly traced step."""
    entry = _COMPILED_STEPS.pop(key, None)
    if entry is None:
        work = build()
        Xv = tf.Variable(X, trainable=False, dtype=gpflow.default_float())
        Yv = tf.Variable(Y, trainable=False, dtype=gpflow.default_float())
        step, adam = _step_and_optimizer(work, Xv, Yv, natgrad_gamma=natgrad_gamma, learning_rate=learning_rate,
                                         learning_rate_drop=learning_rate_drop)
    else:
        work, step, adam, Xv, Yv = entry
        Xv.assign(X)
        Yv.assign(Y)
        for v in adam.variables:
            if v is not adam.learning_rate:
                v.assign(tf.zeros_like(v))
    _copy_variables(model, work)
    if _COMPILED_STEPS_KEPT > 0:
        _COMPILED_STEPS[key] = (work, step, adam, Xv, Yv)
        while len(_COMPILED_STEPS) > _COMPILED_STEPS_KEPT:
            _COMPILED_STEPS.popitem(last=False)
    return work, step


def _train(model, step, n, *, steps, batch_size, seed, rows,
           eval_fn=None, eval_every=None, progress=None, desc="FairGP", val_fn=None, patience=None):
    """Mini-batch training of ``model`` with ``step`` on ``n`` rows (sampling without replacement,
    reshuffled every epoch), its history's rows appended to ``rows``.

    Returns the step whose parameters the model holds at the end: the last one, or with
    ``patience`` the evaluation with the best ``val_fn()`` (the model goes back to it)."""
    batch_size = min(batch_size, n)
    rng = np.random.default_rng(seed + 1)
    order = np.empty(0, dtype=np.int64)
    losses = []
    t0 = time.perf_counter()
    elapsed = 0.0
    best_value, best_step, best_params, since_best = -np.inf, steps, None, 0
    for it in runtime.progress(range(1, steps + 1), disable=None if progress is None else not progress, desc=desc):
        if len(order) < batch_size:
            order = np.concatenate([order, rng.permutation(n)])
        idx, order = order[:batch_size], order[batch_size:]
        losses.append(float(step(tf.constant(idx))))
        if _history.due(it, it - 1, eval_every) or it == steps:
            elapsed += time.perf_counter() - t0
            row = {"step": it, "train_elbo": -float(np.mean(losses)) / n, "seconds": elapsed}
            if eval_fn is not None:
                row.update(eval_fn())
            stop = False
            if val_fn is not None:
                value = row["validation_log_density"] = val_fn()
                if patience is not None:
                    if value > best_value:
                        best_value, best_step, since_best = value, it, 0
                        best_params = {k: v.numpy().copy() for k, v in
                                       gpflow.utilities.parameter_dict(model).items()}
                    else:
                        since_best += 1
                        stop = since_best >= patience
            rows.append(row)
            losses = []
            t0 = time.perf_counter()
            if stop:
                break
    if patience is not None and best_params is not None and best_step != rows[-1]["step"]:
        gpflow.utilities.multiple_assign(model, best_params)
    return best_step if patience is not None else rows[-1]["step"] if rows else steps
