"""fairnotes.monitor: the audited model, the CUSUM's false-alarm rate and delay, the windowed monitor."""

import numpy as np
import pandas as pd
import pytest
import torch

from fairnotes import shifts
from fairnotes.monitor import AuditedModel, Cusum, WindowedMonitor, quantile_demographic_drift
from fairnotes.sensitivity import prediction_sensitivity, proxy_sensitivity


class Logistic(torch.nn.Module):
    def __init__(self, w, b=0.0):
        super().__init__()
        self.lin = torch.nn.Linear(len(w), 1)
        with torch.no_grad():
            self.lin.weight[:] = torch.tensor([w], dtype=torch.float32)
            self.lin.bias[:] = b

    def forward(self, x):
        return torch.sigmoid(self.lin(x))[:, 0]


def _people(n=600, seed=0):
    rng = np.random.default_rng(seed)
    s = (rng.random(n) < 0.5).astype(int)
    X = np.column_stack([s, rng.normal(size=n), rng.normal(size=n) + 1.5 * s]).astype(np.float32)
    return X, s


# --------------------------------------------------------------------------- the audited model

def test_one_pass_gives_the_same_measures_as_the_sensitivity_module():
    X, s = _people()
    model = Logistic([1.0, 0.5, -0.8])
    shift = shifts.fit_shift(X[:, 1:].astype(np.float64), s, method="linear", fixed=[0])
    aware = AuditedModel(model, s_column=0).serve(X)
    np.testing.assert_allclose(aware["sensitivity"], prediction_sensitivity(model, X, 0), rtol=1e-5)
    with torch.no_grad():
        np.testing.assert_allclose(aware["probability"], model(torch.tensor(X)).numpy(), rtol=1e-6)
    unaware = Logistic([0.5, -0.8])
    served = AuditedModel(unaware, shift=shift, chunk_size=64).serve(X[:, 1:])
    X_cf = shift.counterfactual(X[:, 1:].astype(np.float64), s)
    np.testing.assert_allclose(served["proxy_sensitivity"], proxy_sensitivity(unaware, X[:, 1:], X_cf), rtol=1e-4)
    # the linear shift moves group 1 by minus group 0's direction: no s needed at prediction time
    np.testing.assert_allclose(X_cf - X[:, 1:], np.where(s[:, None] == 0, 1, -1) * AuditedModel(
        unaware, shift=shift).direction, atol=1e-5)


def test_quantile_shift_needs_s_and_bad_input_is_named():
    X, s = _people()
    shift = shifts.fit_shift(X[:, 1:].astype(np.float64), s, method="quantile")
    audited = AuditedModel(Logistic([0.5, -0.8]), shift=shift)
    with pytest.raises(ValueError, match="needs the protected attribute"):
        audited.serve(X[:, 1:])
    assert len(audited.serve(X[:, 1:], s=s)) == len(X)
    with pytest.raises(ValueError, match="expects 2"):
        audited.serve(X)
    with pytest.raises(ValueError, match="nothing to audit"):
        AuditedModel(Logistic([0.5, -0.8]))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        AuditedModel(lambda x: x, s_column=0)


def test_calibrate_flags_the_stated_share_of_reference_people():
    X, s = _people(4000)
    audited = AuditedModel(Logistic([1.0, 0.5, -0.8]), s_column=0).calibrate(X, percentile=90)
    assert abs(audited.serve(X)["flagged"].mean() - 0.10) < 0.01


# --------------------------------------------------------------------------- the CUSUM

P0, P1, PEOPLE, HORIZON, ALPHA = 0.05, 0.10, 200, 40, 0.05


@pytest.fixture(scope="module")
def cusum():
    return Cusum.calibrate(p0=P0, p1=P1, people=PEOPLE, horizon=HORIZON, false_alarm=ALPHA, n_streams=20000, seed=1)


def _first_alarm(det, counts):
    det.reset()
    for t, k in enumerate(counts):
        if det.update(flagged=int(k), people=PEOPLE):
            return t
    return None


def test_false_alarm_rate_is_the_one_set(cusum):
    """On 3,000 fresh streams without change, the share with an alarm within the horizon is 5%
    within 1.5 percentage points (3.8 standard errors of the 3,000 streams plus the calibration's
    Monte Carlo error)."""
    counts = np.random.default_rng(123).binomial(PEOPLE, P0, size=(3000, HORIZON))
    alarmed = np.mean([_first_alarm(cusum, c) is not None for c in counts])
    assert abs(alarmed - ALPHA) < 0.015, alarmed
    # the vectorised paths agree with update()
    peak = Cusum.paths(counts, people=PEOPLE, p0=P0, p1=P1).max(axis=1)
    assert np.mean(peak > cusum.threshold) == alarmed


def test_alarm_comes_after_the_change_within_the_stated_bound(cusum):
    """A change from p0 to p1 at window 20: in at least 95% of 1,000 streams the first alarm is at
    or after the change and at most 3 x the expected delay (rounded up) + 2 windows after it; and a
    smaller false-alarm rate never gives an earlier alarm."""
    change, rng = 20, np.random.default_rng(7)
    bound = int(np.ceil(3 * cusum.expected_delay(people=PEOPLE))) + 2
    counts = np.concatenate([rng.binomial(PEOPLE, P0, size=(1000, change)),
                             rng.binomial(PEOPLE, P1, size=(1000, HORIZON))], axis=1)
    first = [_first_alarm(cusum, c) for c in counts]
    ok = [t is not None and change <= t <= change + bound for t in first]
    assert np.mean(ok) >= 0.95, (np.mean(ok), bound)
    strict = Cusum.calibrate(p0=P0, p1=P1, people=PEOPLE, horizon=HORIZON, false_alarm=0.01, n_streams=20000, seed=1)
    assert strict.threshold > cusum.threshold
    later = [_first_alarm(strict, c) for c in counts[:200]]
    assert all(b is None or (a is not None and a <= b) for a, b in zip(first[:200], later))


def test_cusum_input_is_checked():
    with pytest.raises(ValueError, match="larger than p0"):
        Cusum(p0=0.1, p1=0.05, threshold=1.0)
    with pytest.raises(ValueError, match="between 0 and people"):
        Cusum(p0=0.05, p1=0.1, threshold=1.0).update(flagged=300, people=200)
    with pytest.raises(ValueError, match="false_alarm"):
        Cusum.calibrate(p0=0.05, p1=0.1, people=10, horizon=5, false_alarm=1.5)


# --------------------------------------------------------------------------- the monitor

def test_monitor_windows_alarm_after_a_model_change_and_not_before():
    """A stream of batches of 150 people, windows of 300: the model is replaced at person 6,000 by
    one that leans three times as hard on the proxy; the first alarm comes after the change and
    within 10 windows, and the monitor holds at most one window of rows."""
    rng = np.random.default_rng(3)
    before, after = Logistic([0.4, 0.6]), Logistic([0.4, 1.8])
    Xr, sr = _people(4000, seed=5)
    shift = shifts.fit_shift(Xr[:, 1:].astype(np.float64), sr, method="mean")
    a = AuditedModel(before, shift=shift).calibrate(Xr[:, 1:], percentile=95)
    b = AuditedModel(after, shift=shift, flag_threshold=a.flag_threshold)
    p1 = b.serve(Xr[:, 1:])["flagged"].mean()
    assert p1 > 0.2
    det = Cusum.calibrate(p0=0.05, p1=0.10, people=300, horizon=60, false_alarm=0.05, n_streams=5000, seed=0)
    mon = WindowedMonitor(window=300, detector=det, groups=("Black", "White"))
    for batch in range(80):
        X, s = _people(150, seed=100 + batch)
        served = (a if batch < 40 else b).serve(X[:, 1:])
        recorded = np.where(rng.random(150) < 0.5, s, np.nan)
        mon.observe(served, s=recorded)
        assert mon._buffered < mon.window
    t = mon.table()
    assert len(t) == 40 and t["people"].eq(300).all()
    assert mon.alarms() and 20 <= mon.alarms()[0] <= 30, mon.alarms()
    assert {"selection rate Black", "disparate impact", "quantile demographic drift", "cusum"} <= set(t)
    assert (t["recorded Black"] + t["recorded White"]).between(100, 200).all()


def test_monitor_keeps_only_max_windows_and_checks_input():
    mon = WindowedMonitor(window=10, max_windows=3)
    served = pd.DataFrame({"probability": np.linspace(0, 1, 95), "prediction": 0, "flagged": False})
    closed = mon.observe(served)
    assert len(closed) == 9 and len(mon.table()) == 3 and mon.table()["window"].tolist() == [6, 7, 8]
    with pytest.raises(ValueError, match="AuditedModel.serve"):
        mon.observe(pd.DataFrame({"p": [1]}))
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        mon.observe(served.iloc[:2], s=[0, 2])


def test_quantile_demographic_drift_is_zero_for_equal_groups_and_signed():
    p = np.tile(np.linspace(0, 1, 50), 2)
    s = np.repeat([0, 1], 50)
    assert quantile_demographic_drift(p, s) == pytest.approx(0.0)
    assert quantile_demographic_drift(p + 0.1 * (s == 0), s) == pytest.approx(0.1)
    assert np.isnan(quantile_demographic_drift(p[:55], s[:55]))


def test_forward_mode_of_a_book_network_equals_autograd():
    """For the book's ReLU network the derivatives ride along with the forward pass; they equal
    the sensitivity module's autograd values (prediction and proxy sensitivity, in chunks too)."""
    from fairnotes import models

    X, s = _people(500, seed=11)
    net = models.make_model("linear", 3, seed=0)
    shift = shifts.fit_shift(X.astype(np.float64), s, method="linear", fixed=[1])
    audited = AuditedModel(net, s_column=0, shift=shift, chunk_size=128)
    assert audited.method.startswith("forward mode")
    served = audited.serve(X)
    np.testing.assert_allclose(served["sensitivity"], prediction_sensitivity(net, X, 0), rtol=1e-4, atol=1e-7)
    X_cf = shift.counterfactual(X.astype(np.float64), s)
    np.testing.assert_allclose(served["proxy_sensitivity"], proxy_sensitivity(net, X, X_cf), rtol=1e-4, atol=1e-7)
    arrays = audited.serve(X, as_frame=False)
    assert isinstance(arrays, dict) and np.array_equal(arrays["probability"], served["probability"].to_numpy())
    # another model kind takes the autograd path and gives the same values
    wrapped = torch.nn.Sequential(net)
    other = AuditedModel(wrapped, s_column=0, shift=shift)
    assert other.method.startswith("one backward pass")
    np.testing.assert_allclose(other.serve(X)["proxy_sensitivity"], served["proxy_sensitivity"], rtol=1e-4, atol=1e-7)
