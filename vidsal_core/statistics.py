"""Means with 95% confidence intervals, the one way the study reports a number.

Videos of the same SynthKTH person share a body and clothes, so they are not
independent; the unit of every interval is the independent cluster (a person,
or a source video for real footage), never the clip.

The default interval is a **cluster-robust t interval**: the mean of all values,
its standard error from the clusters' summed residuals with the small-sample
factor ``G / (G − 1)`` (the "CR1" sandwich estimator; Cameron & Miller, 2015,
§VI), and Student's t quantile with ``G − 1`` degrees of freedom. With equal
cluster sizes it is exactly the t interval over cluster means. Unlike a
percentile bootstrap over clusters, it keeps its coverage at the 8–12 clusters
this study has: a percentile bootstrap over 3 clusters has only 10 distinct
resamples and its "95%" interval covers far less (tests/test_statistics.py
simulates both). The percentile bootstrap stays available as
``method="percentile_bootstrap"``.

A quantity with a range (an accuracy, a share, an AUROC: ``bounds=(0, 1)``)
gets a **Wilson score interval with a design-effect effective sample size**
instead (:func:`cluster_wilson_interval`): it stays inside the range and keeps
a non-zero width at its ends, where the t interval gives 0.986 [0.954, 1.02]
or 1 [1, 1]. Differences of bounded quantities (a paired AUROC difference in
[−1, 1], a drop in probability) keep the t interval: near its middle a
difference is no closer to its ends than its parts are, and the Wilson
interval's variance ``p(1 − p)`` has no meaning for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from statistics import NormalDist

from vidsal_core.errors import ConfigError

#: Interval methods of :func:`mean_interval`.
INTERVAL_METHODS = ("cluster_t", "percentile_bootstrap")
#: The range of an accuracy, a share or an AUROC: ``mean_interval(..., bounds=UNIT)``.
UNIT = (0.0, 1.0)
#: Values this far (times the range) outside ``bounds`` are floating-point rounding (a share summed from parts)
#: and are taken as the bound; farther out they are an error.
ROUNDING_SLACK = 1e-9


@dataclass(frozen=True)
class Estimate:
    """A mean, its confidence interval, the values averaged and the independent units behind them.

    Attributes
    ----------
    mean, low, high : float
        The mean and its interval (NaN when nothing could be measured).
    count : int
        Values averaged (clips).
    units : int or None
        Independent clusters among them (persons or source videos); None when unknown.
    """

    mean: float
    low: float
    high: float
    count: int
    units: int | None = None

    def __str__(self) -> str:
        return interval_text(self.mean, self.low, self.high, missing=None)

    def text(self, spec: str = ".3g", scale: float = 1.0, missing: str | None = "—") -> str:
        """``mean [low, high]``: :func:`interval_text` of this estimate."""
        return interval_text(self.mean, self.low, self.high, spec=spec, scale=scale, missing=missing)


def interval_text(mean: float, low: float, high: float, spec: str = ".3g", scale: float = 1.0,
                  missing: str | None = "—") -> str:
    """An estimate and its interval as the book writes them: ``mean [low, high]``, each times ``scale``.

    The one interval format of the study: every page and table writes an
    interval through it (with :meth:`Estimate.text` or
    glued values).

    Parameters
    ----------
    spec : str
        A format spec for each number (``".3g"``, ``"+.2f"`` for a signed
        difference, ...).
    missing : str or None
        The text for an estimate whose mean is not finite (nothing could be
        measured); None formats the numbers anyway (``nan [nan, nan]``).

    Examples
    --------
    >>> interval_text(0.01234, 0.004, 0.02)
    '0.0123 [0.004, 0.02]'
    >>> interval_text(0.012, 0.004, 0.02, spec="+.3g", scale=100)
    '+1.2 [+0.4, +2]'
    >>> interval_text(float("nan"), float("nan"), float("nan"))
    '—'
    """
    if missing is not None and not math.isfinite(mean):
        return missing
    try:
        return f"{scale * mean:{spec}} [{scale * low:{spec}}, {scale * high:{spec}}]"
    except (TypeError, ValueError) as error:
        raise ConfigError(f"interval_text: cannot format {mean!r} [{low!r}, {high!r}] with spec={spec!r}: {error}") from error


def cluster_t_interval(values: Sequence[float], groups: Sequence[Any], confidence: float = 0.95) -> tuple[float, float]:
    """Cluster-robust (CR1) t interval of the mean of ``values``, clusters given by ``groups``.

    Parameters
    ----------
    values : sequence of float
        Finite values, one per clip.
    groups : sequence
        The cluster of each value.
    confidence : float, default 0.95
        Coverage of the interval.

    Returns
    -------
    (low, high) : tuple of float
        NaN, NaN when there is only one cluster (no spread between clusters can be measured).

    Examples
    --------
    Equal clusters give the t interval over cluster means:

    >>> low, high = cluster_t_interval([1.0, 1.0, 2.0, 2.0, 3.0, 3.0], ["a", "a", "b", "b", "c", "c"])
    >>> round(low, 3), round(high, 3)
    (-0.484, 4.484)
    """
    values = np.asarray(values, dtype=float)
    count, variance = _cluster_variance(values, groups, confidence, "cluster_t_interval")
    if count < 2:
        return math.nan, math.nan
    mean = values.mean()
    half = _t_quantile(confidence, count - 1) * math.sqrt(variance)
    return float(mean - half), float(mean + half)


def _cluster_variance(values: np.ndarray, groups: Sequence[Any], confidence: float, caller: str) -> tuple[int, float]:
    """``(G, V)``: the number of clusters and the CR1 variance of the mean of ``values`` (NaN when G < 2)."""
    names, group_of = np.unique(np.asarray([str(group) for group in groups]), return_inverse=True)
    count = len(names)
    if values.size == 0 or group_of.size != values.size:
        raise ConfigError(f"{caller}: {values.size} values but {group_of.size} groups")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence={confidence!r}: expected a number between 0 and 1")
    if count < 2:
        return count, math.nan
    residual_sums = np.bincount(group_of, weights=values - values.mean(), minlength=count)
    return count, count / (count - 1) * float(np.sum(residual_sums ** 2)) / values.size ** 2


def _t_quantile(confidence: float, degrees: int) -> float:
    from scipy import stats  # heavy optional dependency, loaded only when an interval is computed

    return float(stats.t.ppf(0.5 + confidence / 2.0, degrees))


def check_bounds(bounds: Any) -> tuple[float, float]:
    """``bounds`` as ``(low, high)`` floats, finite and ``low < high``; :class:`ConfigError` otherwise."""
    try:
        low, high = (float(bound) for bound in bounds)
    except (TypeError, ValueError) as error:
        raise ConfigError(f"bounds={bounds!r}: expected (low, high), two numbers") from error
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(f"bounds={bounds!r}: expected two finite numbers with low < high")
    return low, high


def cluster_wilson_interval(values: Sequence[float], groups: Sequence[Any], confidence: float = 0.95,
                            bounds: tuple[float, float] = UNIT) -> tuple[float, float]:
    """Wilson score interval of the mean of bounded ``values`` with a design-effect effective sample size.

    For an accuracy, a share, an AUROC: a quantity with a range. The values
    are rescaled to ``[0, 1]`` (``p`` their mean, ``n`` their number, ``G``
    the clusters) and

    1. the variance of ``p`` is the cluster-robust CR1 variance ``V`` that
       :func:`cluster_t_interval` uses, floored at the variance of ``n``
       independent values, ``s² / n`` (``s²`` the values' variance): a Kish
       design effect ``V / (s² / n)`` of at least 1, as Korn & Graubard (1998)
       truncate it, so that clusters that happen to agree do not pass for
       more than ``n`` clips;
    2. the effective sample size is ``n* = p (1 − p) / V`` (Kish, 1965: ``n``
       over the design effect, for 0/1 values), the number of independent
       Bernoulli clips that would give ``p`` the same variance; when ``V = 0``
       (every value equal, e.g. all clips correct) the design effect cannot be
       measured and is taken as 1, ``n* = n`` (Korn & Graubard's convention
       for ``p = 0``), so the interval keeps a non-zero width at the ends;
    3. Wilson's (1927) score interval with ``n*`` trials and Student's t
       quantile with ``G − 1`` degrees of freedom in place of the normal one
       (the same as Korn & Graubard's degrees-of-freedom adjusted ``n*``):
       ``(p + t²/2n* ± t √(p(1 − p)/n* + t²/4n*²)) / (1 + t²/n*)``.

    The Wilson interval inverts the score test, so it lies inside ``[0, 1]``
    by construction and reaches 1 only when ``p = 1`` (then it is
    ``[n*/(n* + t²), 1]``). Dean & Pagano (2015) found this design-effect
    Wilson interval among the few that keep their coverage for clustered
    proportions near 0 or 1; the t quantile matters at this study's 8–12
    clusters, and tests/test_statistics.py simulates 9 clusters at a true
    accuracy of 0.97. Away from the ends it is close to the t interval. For
    continuous values (an AUROC per clip) ``p (1 − p)`` is the largest
    variance a value in ``[0, 1]`` with mean ``p`` can have, so ``n*`` is then
    larger than ``n``, as it should be.

    Parameters
    ----------
    values : sequence of float
        Finite values, one per clip, each within ``bounds`` (up to
        :data:`ROUNDING_SLACK` times the range, taken as the bound).
    groups : sequence
        The cluster of each value.
    confidence : float, default 0.95
        Coverage of the interval.
    bounds : (float, float), default (0, 1)
        The range of the quantity.

    Returns
    -------
    (low, high) : tuple of float
        Inside ``bounds``; NaN, NaN when there is only one cluster.

    Raises
    ------
    ConfigError
        If a value lies outside ``bounds``, or the bounds are not two finite
        numbers in order.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and
    statistical inference. JASA 22, 209–212. Kish, L. (1965). Survey
    Sampling, §8.2. Korn, E. L. & Graubard, B. I. (1998). Confidence
    intervals for proportions with small expected number of positive counts
    estimated from survey data. Survey Methodology 24, 193–201. Dean, N. &
    Pagano, M. (2015). Evaluating confidence interval methods for binomial
    proportions in clustered surveys. J. Surv. Stat. Methodol. 3, 484–503.

    Examples
    --------
    Every clip of 9 persons correct (2 each): ``n* = n = 18``, ``t₈ = 2.306``,
    so the interval is ``[18 / (18 + 2.306²), 1] = [0.7719, 1]``, not ``[1, 1]``:

    >>> low, high = cluster_wilson_interval([1.0] * 18, [person for person in range(9) for _ in range(2)])
    >>> round(low, 4), high
    (0.7719, 1.0)
    """
    low_bound, high_bound = check_bounds(bounds)
    values = np.asarray(values, dtype=float)
    slack = ROUNDING_SLACK * (high_bound - low_bound)
    if values.size and (values.min() < low_bound - slack or values.max() > high_bound + slack):
        raise ConfigError(f"values: {values.min():.6g} to {values.max():.6g}, outside bounds {bounds!r}")
    scaled = np.clip((values - low_bound) / (high_bound - low_bound), 0.0, 1.0)
    count, variance = _cluster_variance(scaled, groups, confidence, "cluster_wilson_interval")
    if count < 2:
        return math.nan, math.nan
    mean = float(scaled.mean())
    variance = max(variance, float(scaled.var()) / scaled.size)
    effective = mean * (1.0 - mean) / variance if variance > 0.0 else float(scaled.size)
    t = _t_quantile(confidence, count - 1)
    ratio = t * t / effective
    centre = (mean + ratio / 2.0) / (1.0 + ratio)
    half = t / (1.0 + ratio) * math.sqrt(mean * (1.0 - mean) / effective + ratio / (4.0 * effective))
    low = 0.0 if mean == 0.0 else max(0.0, centre - half)
    high = 1.0 if mean == 1.0 else min(1.0, centre + half)
    return low_bound + (high_bound - low_bound) * low, low_bound + (high_bound - low_bound) * high


def mean_interval(values: Sequence[float], groups: Sequence[Any] | None = None, confidence: float = 0.95,
                  resamples: int = 2000, seed: int = 0, method: str = "cluster_t",
                  bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean of ``values`` with a confidence interval over independent clusters.

    Parameters
    ----------
    values : sequence of float
        One value per clip; NaNs are dropped with their groups.
    groups : sequence, optional
        The cluster of each value (the person, or the source video); None = every value its own.
    confidence : float
        Coverage (default 0.95).
    resamples : int
        Bootstrap resamples (default 2000), for ``method="percentile_bootstrap"`` only.
    seed : int
        Seed of the resampling (default 0), for ``method="percentile_bootstrap"`` only.
    method : {"cluster_t", "percentile_bootstrap"}
        The cluster-robust t interval (default; see the module's docstring) or
        a percentile bootstrap that resamples whole clusters.
    bounds : (float, float), optional
        The range of a bounded quantity (:data:`UNIT` for an accuracy, a share
        or an AUROC; ``(0, 100)`` for a percentage): the interval is then
        :func:`cluster_wilson_interval`'s, inside the range and not of zero
        width at its ends. None (default): an unbounded quantity, the t
        interval. A difference of bounded quantities is unbounded for this
        purpose (see the module's docstring). Only with ``method="cluster_t"``.

    Examples
    --------
    >>> estimate = mean_interval([0.2, 0.4, 0.3, 0.5], groups=["p1", "p1", "p2", "p2"])
    >>> round(estimate.mean, 6), estimate.count, estimate.units
    (0.35, 4, 2)

    An accuracy of 35 correct clips in 36 (9 persons): the t interval crosses 1, the bounded one does not.

    >>> hits, persons = [1.0] * 35 + [0.0], [clip // 4 for clip in range(36)]
    >>> mean_interval(hits, persons).text()
    '0.972 [0.908, 1.04]'
    >>> mean_interval(hits, persons, bounds=UNIT).text()
    '0.972 [0.824, 0.996]'
    """
    if method not in INTERVAL_METHODS:
        raise ConfigError(f"method={method!r}: expected one of {list(INTERVAL_METHODS)}")
    if bounds is not None:
        check_bounds(bounds)
        if method != "cluster_t":
            raise ConfigError(f"bounds={bounds!r}: a bounded interval is the cluster Wilson interval; "
                              f"method={method!r} has none (use method='cluster_t')")
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ConfigError(f"values: expected one value per unit, got shape {values.shape}")
    groups = np.arange(values.size) if groups is None else np.asarray(groups, dtype=object)
    if groups.shape != values.shape:
        raise ConfigError(f"groups: {groups.size} groups for {values.size} values")
    keep = np.isfinite(values)
    values, groups = values[keep], groups[keep]
    if values.size == 0:
        raise ConfigError("values: no finite value to average")
    units = len({str(group) for group in groups})
    if bounds is not None:
        low, high = cluster_wilson_interval(values, groups, confidence, bounds)
    elif method == "cluster_t":
        low, high = cluster_t_interval(values, groups, confidence)
    else:

        low, high = cluster_bootstrap_interval(list(values), list(groups), confidence, resamples, seed)
    return Estimate(float(values.mean()), low, high, int(values.size), units)


#: The verdicts a row may carry (see the module's docstring).
VERDICTS = ("reproduced", "contradicted", "inconclusive", "underpowered", "new")


#: The verdicts that count as evidence about a claim.
COUNTED_VERDICTS = ("reproduced", "contradicted", "inconclusive")


#: The verdicts a row about a claim carries (all but ``new``): the ones every training run and variant repeats.
JUDGED_VERDICTS = ("reproduced", "contradicted", "inconclusive", "underpowered")


#: The verdicts that decide a claim one way or the other (the ones a family-wise correction can undo).
DECIDED_VERDICTS = ("reproduced", "contradicted")


#: Fewest independent units (persons, source videos) behind a counted verdict.
MIN_UNITS = 8


#: Sides of the null a claim may predict.
DIRECTIONS = ("greater", "less")


def verdict(low: float | None, high: float | None, units: int | None, direction: str = "greater",
            null: float = 0.0, min_units: int = MIN_UNITS) -> str:
    """The one verdict rule on a claim, from the 95% interval of its estimate.

    Parameters
    ----------
    low, high : float or None
        The interval (over independent units). A missing or non-finite interval
        holds nothing, so it is ``"inconclusive"``.
    units : int or None
        Independent units (persons, source videos) behind the interval; fewer
        than ``min_units`` (or unknown) gives ``"underpowered"``, whatever the interval says.
    direction : {"greater", "less"}, default "greater"
        The side of ``null`` the claim predicts.
    null : float, default 0
        The value of no effect (0 for a difference or a correlation, 0.5 for an AUROC, chance for an accuracy).
    min_units : int, default :data:`MIN_UNITS`

    Returns
    -------
    str
        ``"reproduced"`` (the interval lies wholly on the claimed side of ``null``),
        ``"contradicted"`` (wholly on the other side), ``"inconclusive"`` (it holds
        ``null``) or ``"underpowered"``.

    Examples
    --------
    >>> verdict(0.1, 0.4, units=9)
    'reproduced'
    >>> verdict(-8.6, -8.3, units=9)        # the opposite of the claim
    'contradicted'
    >>> verdict(-1.5, 2.8, units=9)
    'inconclusive'
    >>> verdict(0.1, 0.4, units=3)
    'underpowered'
    >>> verdict(0.52, 0.61, units=9, direction="less", null=0.5)
    'contradicted'
    """
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction={direction!r}: expected one of {list(DIRECTIONS)}")
    if units is None or units < min_units:
        return "underpowered"
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if low > high:
        raise ConfigError(f"interval [{low}, {high}]: low is above high")
    side = interval_side(low, high, null)
    if side == "holds":
        return "inconclusive"
    return "reproduced" if (side == "above") == (direction == "greater") else "contradicted"


def opposite_verdict(word: str) -> str:
    """The verdict of a statement opposite to a row's claim (a register entry's ``also`` with relation
    ``"opposite"``): reproduced and contradicted swap, the rest stay.

    >>> opposite_verdict("reproduced"), opposite_verdict("inconclusive")
    ('contradicted', 'inconclusive')
    """
    return {"reproduced": "contradicted", "contradicted": "reproduced"}.get(word, word)


def interval_side(low: float | None, high: float | None, null: float = 0.0) -> str:
    """Where an interval lies against ``null``: ``"above"``, ``"below"`` or ``"holds"`` (it holds ``null``).

    A missing or non-finite interval ``"holds"`` every value. Prose uses this
    for measurements that are no seed claim; seed claims use :func:`verdict`.

    Examples
    --------
    >>> interval_side(0.2, 0.5), interval_side(-0.5, -0.2), interval_side(-0.1, 0.3)
    ('above', 'below', 'holds')
    """
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return "holds"
    if low > null:
        return "above"
    if high < null:
        return "below"
    return "holds"


def normal_quantile(confidence: float) -> float:
    """Two-sided standard normal quantile: 1.96 for ``confidence = 0.95``."""
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence={confidence!r}: expected a number in (0, 1)")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def wilson_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson, 1927).

    Parameters
    ----------
    successes, trials : int
        Correct predictions and test videos.
    confidence : float, default 0.95
        Coverage of the interval.
    """
    if trials < 1 or not 0 <= successes <= trials:
        raise ConfigError(f"wilson_interval: need 0 <= successes <= trials and trials >= 1, got {successes}/{trials}")
    z = normal_quantile(confidence)
    proportion = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (proportion + z * z / (2 * trials)) / denominator
    half_width = z * np.sqrt(proportion * (1 - proportion) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, float(centre - half_width)), min(1.0, float(centre + half_width))


def cluster_bootstrap_interval(
    correct: Sequence[bool],
    groups: Sequence[Any],
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of accuracy, resampling whole groups (persons).

    Parameters
    ----------
    correct : sequence of bool
        Whether each test video was classified correctly.
    groups : sequence
        The group (person) of each video.
    confidence : float, default 0.95
        Coverage of the interval.
    resamples : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling.
    """
    if len(correct) != len(groups) or not correct:
        raise ConfigError(f"cluster_bootstrap_interval: {len(correct)} outcomes but {len(groups)} groups")
    names = sorted(set(groups), key=str)
    index = {name: position for position, name in enumerate(names)}
    group_of = np.array([index[group] for group in groups])
    outcomes = np.asarray(correct, dtype=float)
    hits = np.bincount(group_of, weights=outcomes, minlength=len(names))
    sizes = np.bincount(group_of, minlength=len(names)).astype(float)
    generator = np.random.default_rng(seed)
    draws = generator.integers(0, len(names), size=(resamples, len(names)))
    accuracies = hits[draws].sum(axis=1) / sizes[draws].sum(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(accuracies, [tail, 1.0 - tail])
    return float(low), float(high)
