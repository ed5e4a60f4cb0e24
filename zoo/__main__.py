"""The zoo's command line: `python -m zoo {list,train,eval,train-classifier,export-onnx,...}`."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from . import get_dataset, get_spec, list_datasets, list_models
from .classifier import JUDGES

FACES_SHIPPED = 2  # glyph faces in assets/examples: 124 images of 64×64, 0.5 MB
RENDERED_SHIPPED = 30  # per class of a rendered dataset (shapes): 90 images of 64×64, 0.4 MB grey, 1.1 MB in colour


def _names(args) -> list[str]:
    if args.all:
        return list_models()
    if not args.name:
        raise SystemExit("name a model, or pass --all (see `python -m zoo list`)")
    get_spec(args.name)  # unknown names fail here, with suggestions
    return [args.name]


def cmd_list(args) -> int:
    from .weights import resolve_weights

    rows = []
    for name in list_models(args.pattern):
        try:
            spec = get_spec(name)
        except Exception as exc:  # a broken plugin entry: say so, and list the rest
            logging.getLogger("zoo").error("skipping %s: %s", name, exc)
            continue
        try:
            weights = resolve_weights(spec).source
        except FileNotFoundError:
            weights = "missing (train it)"
        rows.append({"name": name, "family": spec.family, "dataset": spec.dataset, "latent_dim": spec.latent_dim,
                     "conditional": spec.conditional, "label_names": spec.label_names, "weights": weights})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    header = ("name", "family", "dataset", "latent", "conditional", "labels", "weights")
    table = [header] + [(r["name"], r["family"], r["dataset"], str(r["latent_dim"]), "yes" if r["conditional"] else "no",
                         ", ".join(r["label_names"]) if len(", ".join(r["label_names"])) < 30 else f"{len(r['label_names'])} labels",
                         r["weights"]) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def cmd_train(args) -> int:
    from .train import Processes, train

    for name in _names(args):
        out = None
        if args.out:
            out = f"{args.out}/{name}" if args.all else args.out
        result = train(name, epochs=args.epochs, seed=args.seed, device=args.device, out=out, bf16=args.bf16)
        if Processes.from_env().main:  # under torchrun, rank 0 wrote the folder
            print(f"{name}: wrote {result.folder} (final test loss {result.history[-1]['test_loss']} nats/image)")
    return 0


def cmd_eval(args) -> int:
    from .evaluate import evaluate

    results = {}
    for name in _names(args):
        results[name] = evaluate(name, k=args.k, device=args.device, limit=args.limit, write_card=not args.no_card,
                                 style_faces=args.style_faces)
        if not args.json:
            print(name)
            for key, value in results[name].items():
                print(f"  {key:22s} {value}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def cmd_train_classifier(args) -> int:
    from .classifier import train_classifier

    folder = train_classifier(args.dataset, epochs=args.epochs, device=args.device, judge=args.judge)
    print(f"wrote {folder}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zoo", description="A zoo of autoencoders (AE, VAE, CVAE).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the zoo's models")
    p.add_argument("pattern", nargs="?", default="*", help="fnmatch wildcard, e.g. 'vae*'")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_list)

    for command, func, help_text in (("train", cmd_train, "train a model with its recipe"),
                                     ("eval", cmd_eval, "measure a model on the test split")):
        p = sub.add_parser(command, help=help_text)
        p.add_argument("name", nargs="?", help="model name (see `python -m zoo list`)")
        p.add_argument("--all", action="store_true", help="every model in the zoo")
        p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available, or ZOO_DEVICE)")
        p.set_defaults(func=func)
        if command == "train":
            p.add_argument("--epochs", type=int, help="override the recipe's epochs")
            p.add_argument("--seed", type=int, help="override the recipe's seed (the card records the one used)")
            p.add_argument("--out", help="output folder (default: the bundled weights folder)")
            p.add_argument("--bf16", action="store_true", help="bfloat16 autocast (CUDA only)")
        else:
            p.add_argument("--k", type=int, default=64, help="importance samples for the NLL estimate (default 64)")
            p.add_argument("--limit", type=int, help="evaluate on N test images only, evenly spaced over the split")
            p.add_argument("--json", action="store_true", help="print JSON")
            p.add_argument("--no-card", action="store_true", help="do not write the results into the model card")
            p.add_argument("--style-faces", type=int, default=24,
                           help="held-out faces for the style metrics of a face dataset, glyphs (default 24)")

    p = sub.add_parser("train-classifier", help="train the classifier that judges label swaps")
    p.add_argument("dataset", choices=list_datasets())
    p.add_argument("--epochs", type=int)
    p.add_argument("--device")
    p.add_argument("--judge", default="project", choices=list(JUDGES),
                   help="project: trained with blur and shifts (default); plain: no augmentation")
    p.set_defaults(func=cmd_train_classifier)

    def cmd_export_examples(args) -> int:
        from .demo.examples import export_examples

        for dataset in args.datasets or list_datasets():
            get_dataset(dataset)  # an unknown name fails here, with suggestions
            faces = "face" in get_dataset(dataset).factor_names  # glyphs: whole faces of 62 glyphs, a few
            rendered = get_dataset(dataset).render is not None
            per_class = args.per_class or (FACES_SHIPPED if faces else RENDERED_SHIPPED if rendered else 80)
            print(f"wrote {export_examples(dataset, per_class=per_class, folder=args.out)}")
        return 0

    p = sub.add_parser("export-examples", help="write the test-set examples the app ships (assets/examples/)")
    p.add_argument("datasets", nargs="*", help="datasets (default: every one in `zoo.list_datasets()`)")
    p.add_argument("--per-class", type=int, help=f"test images per class (default 80; {RENDERED_SHIPPED} for a rendered dataset), "
                                                   f"or whole faces for glyphs (default {FACES_SHIPPED})")
    p.add_argument("--out", help="output folder (default: assets/examples)")
    p.set_defaults(func=cmd_export_examples)

    def cmd_build_dataset(args) -> int:
        info = get_dataset(args.dataset)
        if info.build is None:
            raise SystemExit(f"{args.dataset} has nothing to build: it is read as it is ({info.source('train')})")
        print(f"wrote {info.build()}")
        return 0

    p = sub.add_parser("build-dataset", help="build a rendered dataset (glyphs) into the cache, from scratch")
    p.add_argument("dataset", help="a dataset with a build step, e.g. glyphs")
    p.set_defaults(func=cmd_build_dataset)

    def cmd_publish(args) -> int:
        from .publish import publish

        if args.repo_id and args.all:
            raise SystemExit("--repo-id names one repo: publish one model with it, or use --all with --org")
        for name in _names(args):
            done = publish(name, repo_id=args.repo_id, org=args.org, private=args.private or None,
                           allow_unmeasured=args.allow_unmeasured)
            print(f"{name}: {done.url} at commit {done.commit}")
            print(f'  pin it: hub_repo="{done.repo_id}", revision="{done.commit}", sha256="{done.sha256}"')
        return 0

    def cmd_deploy_space(args) -> int:
        from .publish import deploy_space

        url = deploy_space(args.space_id, hub_org=args.hub_org, private=args.private or None)
        print(f"{url} ({'weights from the Hub org ' + args.hub_org if args.hub_org else 'bundled weights'})")
        return 0

    def cmd_export_onnx(args) -> int:
        from .onnx import OPSET, export_onnx, summary

        names = _names(args)
        if not args.verbose:  # the exporter's passes log every step at INFO
            for logger in ("onnxscript", "onnx_ir"):
                logging.getLogger(logger).setLevel(logging.WARNING)
        if args.out and len(names) > 1:
            raise SystemExit("--out names one folder: export one model with it, or use --all without --out")
        for name in names:
            print(summary(export_onnx(name, out=args.out, opset=args.opset or OPSET)))
        return 0

    p = sub.add_parser("export-onnx", help="export a model's encoder and decoder to ONNX (weights/<name>/onnx/)")
    p.add_argument("name", nargs="?", help="model name (see `python -m zoo list`)")
    p.add_argument("--all", action="store_true", help="every model in the zoo")
    p.add_argument("--out", help="output folder (default: weights/<name>/onnx)")
    p.add_argument("--opset", type=int, help="ONNX opset (default: the one the app is tested with, zoo.onnx.OPSET)")
    p.set_defaults(func=cmd_export_onnx)

    p = sub.add_parser("publish", help="upload a model's weights and card to the Hugging Face Hub")
    p.add_argument("name", nargs="?", help="model name (see `python -m zoo list`)")
    p.add_argument("--all", action="store_true", help="every model in the zoo")
    p.add_argument("--org", help="Hub user or org: publishes to ORG/<model-name> (default: ZOO_HUB_ORG)")
    p.add_argument("--repo-id", help="OWNER/NAME, for one model")
    p.add_argument("--private", action="store_true", help="create the repo private")
    p.add_argument("--allow-unmeasured", action="store_true", help="publish even if `zoo eval` has not measured it")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("deploy-space", help="create or update a Gradio Space running the app")
    p.add_argument("--space-id", required=True, help="OWNER/NAME of the Space")
    p.add_argument("--hub-org", help="load the weights from this Hub org instead of shipping them")
    p.add_argument("--private", action="store_true", help="create the Space private")
    p.set_defaults(func=cmd_deploy_space)

    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
