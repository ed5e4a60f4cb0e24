"""Disentanglement metrics on a dataset with known factors: MIG and the FactorVAE score.

Both follow the definitions of disentanglement_lib (Locatello et al., "Challenging Common
Assumptions in the Unsupervised Learning of Disentangled Representations", ICML 2019,
https://github.com/google-research/disentanglement_lib, `evaluation/metrics/mig.py` and
`evaluation/metrics/factor_vae.py`); the representation is the encoder's mean.

  MIG (Chen et al., β-TCVAE, https://arxiv.org/abs/1802.04942): 10,000 samples; each code dimension
      discretised into a 20-bin histogram of its values; the mutual information I(z_j; v_k) of every
      dimension with every factor (nats, from the joint counts, as sklearn's `mutual_info_score`);
      for each factor, the gap between its two most informative dimensions over the factor's entropy
      H(v_k); MIG is the mean gap over the factors. 1: each factor lives in one dimension alone; 0:
      no dimension says more about a factor than the next one does.
  FactorVAE score (Kim & Mnih, https://arxiv.org/abs/1802.05983): each dimension's variance over
      10,000 points; dimensions whose standard deviation is under 0.05 are pruned; a vote draws a
      factor k, a batch of 64 observations sharing one value of k (the other factors random), and
      takes the active dimension with the least variance in the batch relative to its global
      variance; the majority-vote classifier (each dimension -> the factor that gave it most votes)
      is fitted on 10,000 votes and its accuracy measured on 5,000 more. 1: the least-varying
      dimension always tells the fixed factor; chance is about 1 / (number of factors).

Ours differ from disentanglement_lib in one place, and say so where they are reported: the
observations come from a finite pool (the test split, a uniform random subset of the factor grid)
instead of being drawn afresh from the whole grid, so a FactorVAE batch is 64 pool images sharing
one value of the fixed factor. Published numbers vary a lot with such details (the same model has
been reported at MIG 0.50 by one implementation and 0.0008 by another: disentangling-vae issue #64),
so compare ours with ours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

MIG_BINS = 20
MIG_SAMPLES = 10_000
FACTOR_VAE_TRAIN_VOTES = 10_000
FACTOR_VAE_EVAL_VOTES = 5_000
FACTOR_VAE_VARIANCE_POINTS = 10_000
FACTOR_VAE_BATCH = 64
PRUNE_THRESHOLD = 0.05  # a dimension whose global standard deviation is under this is inactive


def discretize(codes: np.ndarray, num_bins: int = MIG_BINS) -> np.ndarray:
    """(N, D) codes -> (N, D) int bin ids: each dimension cut into `num_bins` equal bins over its own range
    (disentanglement_lib's `_histogram_discretize`)."""
    codes = np.asarray(codes, dtype=np.float64)
    out = np.zeros(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], num_bins)[1]
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats of two (N,) discrete sequences, from their joint counts (as sklearn's mutual_info_score)."""
    _, a_ids = np.unique(a, return_inverse=True)
    _, b_ids = np.unique(b, return_inverse=True)
    joint = np.zeros((a_ids.max() + 1, b_ids.max() + 1))
    np.add.at(joint, (a_ids, b_ids), 1)
    p = joint / joint.sum()
    pa, pb = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    return float((p[nz] * (np.log(p[nz]) - np.log((pa @ pb)[nz]))).sum())


def mutual_info_matrix(codes: np.ndarray, factors: np.ndarray, num_bins: int = MIG_BINS) -> np.ndarray:
    """(D, K): I(z_j; v_k) in nats between each discretised code dimension and each factor."""
    discrete, factors = discretize(codes, num_bins), np.asarray(factors)
    return np.array([[mutual_info(discrete[:, j], factors[:, k]) for k in range(factors.shape[1])]
                     for j in range(discrete.shape[1])])


def factor_entropies(factors: np.ndarray) -> np.ndarray:
    """(K,): H(v_k) in nats of each factor's empirical distribution."""
    factors = np.asarray(factors)
    return np.array([mutual_info(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])


@dataclass(frozen=True)
class MIG:
    score: float  # mean of the per-factor gaps
    gaps: np.ndarray  # (K,) normalised gap of each factor
    mutual_info: np.ndarray  # (D, K) nats
    entropies: np.ndarray  # (K,) nats


def mig(codes: np.ndarray, factors: np.ndarray, num_bins: int = MIG_BINS) -> MIG:
    """The mutual information gap of (N, D) codes against (N, K) discrete factors (N = 10,000 in disentanglement_lib)."""
    codes, factors = np.asarray(codes), np.asarray(factors)
    if codes.shape[1] < 2:
        raise ValueError("MIG needs a code of at least 2 dimensions (it compares the two most informative)")
    m = mutual_info_matrix(codes, factors, num_bins)
    h = factor_entropies(factors)
    top = np.sort(m, axis=0)[::-1]  # (D, K), each column descending
    gaps = np.divide(top[0] - top[1], h, out=np.zeros_like(h), where=h > 0)
    return MIG(float(gaps.mean()), gaps, m, h)


@dataclass(frozen=True)
class FactorVAEScore:
    train_accuracy: float
    eval_accuracy: float  # the score
    active_dims: int
    votes: np.ndarray  # (K, D) training votes: factor k fixed, dimension j least varying


def factor_vae_score(codes: np.ndarray, factors: np.ndarray, seed: int = 0, num_train: int = FACTOR_VAE_TRAIN_VOTES,
                     num_eval: int = FACTOR_VAE_EVAL_VOTES, num_variance_estimate: int = FACTOR_VAE_VARIANCE_POINTS,
                     batch_size: int = FACTOR_VAE_BATCH, threshold: float = PRUNE_THRESHOLD) -> FactorVAEScore:
    """The FactorVAE score of a pool of (N, D) codes with their (N, K) discrete factors (see the module's docstring).

    A factor with one value only in the pool cannot be told apart and is never drawn."""
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors)
    rng = np.random.default_rng(seed)
    n, d = codes.shape
    k = factors.shape[1]
    variance_rows = rng.choice(n, min(num_variance_estimate, n), replace=False)
    global_var = codes[variance_rows].var(axis=0, ddof=1)
    active = np.sqrt(global_var) >= threshold
    if not active.any():
        return FactorVAEScore(0.0, 0.0, 0, np.zeros((k, d), dtype=np.int64))
    # Where each value of each factor occurs in the pool, drawn from without a Python scan per vote.
    by_value = [{v: np.flatnonzero(factors[:, f] == v) for v in np.unique(factors[:, f])} for f in range(k)]
    usable = [f for f in range(k) if len(by_value[f]) > 1]
    active_ids = np.flatnonzero(active)

    def votes(count: int) -> np.ndarray:
        table = np.zeros((k, d), dtype=np.int64)
        for _ in range(count):
            f = usable[rng.integers(len(usable))]
            value = factors[rng.integers(n), f]  # the value of a random observation, as disentanglement_lib fixes it
            rows = rng.choice(by_value[f][value], batch_size, replace=len(by_value[f][value]) < batch_size)
            local_var = codes[rows][:, active].var(axis=0, ddof=1)
            table[f, active_ids[np.argmin(local_var / global_var[active])]] += 1
        return table

    train, evaluation = votes(num_train), votes(num_eval)
    classifier = train.argmax(axis=0)  # (D,): the factor each dimension votes for most
    columns = np.arange(d)
    return FactorVAEScore(float(train[classifier, columns].sum() / train.sum()),
                          float(evaluation[classifier, columns].sum() / evaluation.sum()), int(active.sum()), train)


@dataclass(frozen=True)
class DimensionFactor:
    factor: str  # the factor this dimension tells most about ("" when it tells little about any)
    share: float  # I(z_j; v_k) / H(v_k) for that factor: the fraction of the factor's entropy it carries


def dimension_factors(info: MIG, factor_names: tuple[str, ...], codes: np.ndarray, min_share: float = 0.1,
                      min_variance: float = 0.01) -> list[DimensionFactor]:
    """For each code dimension, the factor it carries most by normalised mutual information I(z_j; v_k) / H(v_k);
    "" for an inactive dimension (variance of its means under `min_variance`) or a share under `min_share`."""
    share = np.divide(info.mutual_info, info.entropies[None, :], out=np.zeros_like(info.mutual_info),
                      where=info.entropies[None, :] > 0)  # (D, K)
    variance = np.asarray(codes).var(axis=0)
    out = []
    for j in range(share.shape[0]):
        best = int(share[j].argmax())
        keep = variance[j] >= min_variance and share[j, best] >= min_share
        out.append(DimensionFactor(factor_names[best] if keep else "", round(float(share[j, best]), 3)))
    return out


@torch.inference_mode()
def encode_means(model, images: torch.Tensor, labels: torch.Tensor | None, device, batch_size: int = 500) -> np.ndarray:
    """(N, D) posterior means of `images` (with `labels` for a conditional model)."""
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device)
        y = None if labels is None else labels[start:start + batch_size].to(device)
        out.append(model.encode(x, y).mean.float().cpu())
    return torch.cat(out).numpy()


def disentanglement_metrics(codes: np.ndarray, factors: np.ndarray, factor_names: tuple[str, ...], seed: int = 0,
                            num_train: int = FACTOR_VAE_TRAIN_VOTES, num_eval: int = FACTOR_VAE_EVAL_VOTES) -> dict:
    """MIG, the FactorVAE score and each dimension's factor, as `vae-zoo eval` records them, from a pool of
    (N, D) codes and their (N, K) factors (MIG on the first MIG_SAMPLES of the pool)."""
    info = mig(codes[:MIG_SAMPLES], factors[:MIG_SAMPLES])
    score = factor_vae_score(codes, factors, seed=seed, num_train=num_train, num_eval=num_eval)
    dims = dimension_factors(info, factor_names, codes[:MIG_SAMPLES])
    return {
        "mig": float(info.score),
        "mig_per_factor": {name: round(float(g), 4) for name, g in zip(factor_names, info.gaps)},
        "factor_vae_score": score.eval_accuracy,
        "factor_vae_train_accuracy": score.train_accuracy,
        "factor_vae_active_dims": score.active_dims,
        "disentanglement_samples": int(min(len(codes), MIG_SAMPLES)),
        "disentanglement_pool": "the test split's images (a uniform random subset of the factor grid)",
        "dimension_factors": [d.factor for d in dims],
        "dimension_factor_shares": [d.share for d in dims],
    }
