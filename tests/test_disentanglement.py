"""MIG and the FactorVAE score (zoo/disentanglement.py) on constructed codes whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from zoo.datasets import shapes
from zoo.disentanglement import (dimension_factors, discretize, factor_vae_score, mig, mutual_info,
                                 disentanglement_metrics)

N = 10_000


@pytest.fixture(scope="module")
def factors() -> np.ndarray:
    """(N, 5) factors drawn uniformly from the shapes grid, as the test split is."""
    return shapes.sample_factors(N, np.random.default_rng(0)).numpy()


def encoder_of_factors(factors: np.ndarray, extra: int = 5, seed: int = 0) -> np.ndarray:
    """Codes that are the factors themselves (standardised), then `extra` dimensions of tiny noise."""
    rng = np.random.default_rng(seed)
    f = factors.astype(np.float64)
    f = (f - f.mean(0)) / f.std(0)
    return np.concatenate([f, 1e-3 * rng.standard_normal((len(f), extra))], axis=1)


def test_mutual_information_of_known_pairs():
    a = np.repeat(np.arange(4), 100)
    assert mutual_info(a, a) == pytest.approx(np.log(4))  # I(a; a) = H(a)
    assert mutual_info(a, np.tile(np.arange(2), 200)) == pytest.approx(0, abs=1e-12)  # independent
    assert discretize(np.linspace(0, 1, 40)[:, None], 20)[:, 0].tolist() == np.repeat(np.arange(1, 21), 2).tolist()


def test_an_encoder_returning_the_factors_scores_about_one(factors):
    codes = encoder_of_factors(factors)
    result = mig(codes, factors)
    assert result.score > 0.85  # the 20 bins cannot hold all of 32 positions or 40 orientations: not quite 1
    assert result.gaps[:2] == pytest.approx([1, 1], abs=0.02)  # shape and scale fit in 20 bins entirely
    score = factor_vae_score(codes, factors)
    assert score.eval_accuracy == 1.0 and score.train_accuracy == 1.0 and score.active_dims == 5  # noise is pruned


def test_noise_scores_about_zero(factors):
    codes = np.random.default_rng(1).standard_normal((N, 10))
    assert mig(codes, factors).score < 0.02
    score = factor_vae_score(codes, factors)
    assert score.active_dims == 10
    assert score.eval_accuracy < 0.3  # chance, 1/5, plus what 10 majority votes can fit


def test_an_entangled_code_scores_low_and_a_permuted_one_the_same(factors):
    codes = encoder_of_factors(factors, extra=0)
    rotation = np.linalg.qr(np.random.default_rng(2).standard_normal((5, 5)))[0]
    assert mig(codes @ rotation, factors).score < 0.3
    shuffled = 3.0 * codes[:, ::-1] + 1.0  # reordered and rescaled dimensions tell the same
    assert mig(shuffled, factors).score == pytest.approx(mig(codes, factors).score)
    assert factor_vae_score(shuffled, factors).eval_accuracy == 1.0


def test_a_constant_code_scores_zero(factors):
    codes = np.zeros((N, 10))
    assert factor_vae_score(codes, factors).eval_accuracy == 0.0  # every dimension pruned
    assert mig(codes, factors).score == 0.0


def test_each_dimension_is_named_by_the_factor_it_carries(factors):
    rng = np.random.default_rng(3)
    f = factors.astype(float)
    codes = np.stack([f[:, 3] + 0.1 * rng.standard_normal(N), np.zeros(N), f[:, 4], rng.standard_normal(N), f[:, 1]], axis=1)
    names = [d.factor for d in dimension_factors(mig(codes, factors), shapes.FACTOR_NAMES, codes)]
    assert names == ["x", "", "y", "", "scale"]  # a constant and a noise dimension carry none


def test_the_record_eval_writes(factors):
    codes = encoder_of_factors(factors)
    record = disentanglement_metrics(codes, factors, shapes.FACTOR_NAMES, num_train=500, num_eval=200)
    assert record["mig"] > 0.85 and record["factor_vae_score"] == 1.0
    assert set(record["mig_per_factor"]) == set(shapes.FACTOR_NAMES)
    assert record["dimension_factors"] == [*shapes.FACTOR_NAMES, "", "", "", "", ""]
