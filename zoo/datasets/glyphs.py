"""Glyphs: the 62 characters A–Z, a–z, 0–9 of hundreds of real typefaces, 64×64 grey, light on dark.

Every typeface draws every character, so a glyph dataset has what MNIST lacks: the true "same
style, other character". A conditional model that encodes a face's "A" and decodes a "g" can be
compared with that face's real "g" (`zoo.glyph_metrics`).

Rendered from the typefaces of the Debian font packages in `FONT_PACKAGES` with FreeType (through
Pillow), their coverage read from the fonts' cmaps with fontTools:
  - one face = one font file (.ttf/.otf) that maps all 62 characters and draws each with ink; a face
    in which two characters draw the same pixels (caps-only faces, placeholder boxes) is skipped, and
    so is a face whose 62 glyphs duplicate an earlier face's pixel for pixel;
  - the glyphs of a face share one em size and one baseline (so "a" sits lower than "A", and "l" is
    taller than "o"); the em size is the largest at which every glyph of the face fits in the frame,
    and each glyph is centred horizontally by its ink;
  - the split is by family: a seeded `TEST_FRACTION` of the families, with all their faces, is the
    test split, so test styles are unseen;
  - the factors are the face and the family ids (indices into the build's manifest).

`python -m zoo build-dataset glyphs` (or the first load) builds it into `cache_dir()/glyphs/`:
`glyphs.safetensors` and `manifest.json`, which records the packages' versions and every font file's
sha256. Font-manifold precedent: Campbell & Kautz, "Learning a Manifold of Fonts", SIGGRAPH 2014;
SVG-VAE, Lopes et al., ICCV 2019, https://arxiv.org/abs/1904.02632 (62 classes, 64×64).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import shutil
import string
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from . import Dataset, Framing, register_dataset
from ._idx import cache_dir
from ..download import sha256_of

log = logging.getLogger(__name__)

CHARACTERS = string.ascii_uppercase + string.ascii_lowercase + string.digits  # the 62 labels, in this order
IMAGE_SIDE = 64
MARGIN = 3  # pixels kept free around a face's tallest and widest glyph
TEST_FRACTION = 0.2  # of the families, with all their faces
SPLIT_SEED = 0
BUILD_VERSION = 1  # bump when the rendering changes: a cache built by another version is rebuilt

# Debian packages whose typefaces make the dataset (≥ 300 faces, ≥ 80 families once filtered).
# Install them with `apt-get install --no-install-recommends` + this list (the README's set-up).
FONT_PACKAGES = (
    # TeX's and URW's classics
    "fonts-lmodern", "fonts-cmu", "fonts-texgyre", "fonts-urw-base35",
    # metric-compatible and UI families
    "fonts-dejavu-core", "fonts-dejavu-extra", "fonts-liberation", "fonts-liberation2", "fonts-croscore",
    "fonts-crosextra-caladea", "fonts-crosextra-carlito", "fonts-cantarell", "fonts-noto-core", "fonts-open-sans",
    "fonts-roboto-unhinted", "fonts-roboto-slab", "fonts-lato", "fonts-inter", "fonts-go", "fonts-paratype",
    "fonts-freefont-ttf", "fonts-clear-sans", "fonts-b612", "fonts-cabin", "fonts-karla", "fonts-manrope", "fonts-sora",
    "fonts-dosis", "fonts-league-spartan", "fonts-play", "fonts-jura", "fonts-comfortaa", "fonts-allerta",
    "fonts-opendin", "fonts-tiresias", "fonts-routed-gothic", "fonts-opendyslexic", "fonts-comic-neue",
    # book faces
    "fonts-junicode", "fonts-ebgaramond", "fonts-stix", "fonts-linuxlibertine", "fonts-sil-gentiumplus",
    "fonts-sil-charis", "fonts-sil-andika", "fonts-sil-doulos", "fonts-oldstandard", "fonts-quattrocento",
    "fonts-cardo", "fonts-goudybookletter", "fonts-prociono", "fonts-fanwood", "fonts-century-catalogue",
    "fonts-arapey", "fonts-junction", "fonts-lindenhill", "fonts-levien-museum",
    "fonts-gfs-didot", "fonts-gfs-artemisia", "fonts-gfs-neohellenic",
    # Arkandis Digital Foundry
    "fonts-adf-accanthis", "fonts-adf-baskervald", "fonts-adf-berenis", "fonts-adf-gillius", "fonts-adf-ikarius",
    "fonts-adf-irianis", "fonts-adf-libris", "fonts-adf-mekanus", "fonts-adf-oldania", "fonts-adf-romande",
    "fonts-adf-solothurn", "fonts-adf-switzera", "fonts-adf-tribun", "fonts-adf-universalis", "fonts-adf-verana",
    # display, script and hand-drawn faces
    "fonts-averia-gwf", "fonts-averia-sans-gwf", "fonts-averia-serif-gwf", "fonts-dustin", "fonts-lobster",
    "fonts-lobstertwo", "fonts-isabella", "fonts-kristi", "fonts-dancingscript",
    # monospaced
    "fonts-hack", "fonts-firacode", "fonts-jetbrains-mono", "fonts-mononoki", "fonts-fantasque-sans",
    # Thai families, whose Latin halves are faces of their own
    "fonts-tlwg-kinnari-ttf", "fonts-tlwg-norasi-ttf", "fonts-tlwg-laksaman-ttf", "fonts-tlwg-garuda-ttf",
    "fonts-tlwg-loma-ttf", "fonts-tlwg-purisa-ttf", "fonts-tlwg-sawasdee-ttf", "fonts-tlwg-typist-ttf",
    "fonts-tlwg-umpush-ttf", "fonts-tlwg-mono-ttf",
)
FONT_SUFFIXES = (".ttf", ".otf")  # Type 1 copies (.pfb, .t1) of the same faces ship beside these; one format is enough
# Fonts whose Latin code points draw something else (symbol encodings, maths alphabets, keyboard keys).
NOT_LETTERS = re.compile(r"math|symbol|dingbat|keyboard|nushu|^D050000L$|^Z003$", re.IGNORECASE)
# Trailing words of a family name that name a width, weight, slant, optical size or variant of the
# same design: "Latin Modern Roman Slanted", "LM Roman 12", "Clear Sans Light" are one family each.
FAMILY_QUALIFIERS = re.compile(
    r"(\s+(\d+|no\d|std|pro|caps|smallcaps|demi|dunhill|slanted|unslanted|upright|italic|oblique|light|thin|medium|"
    r"semibold|bold|black|heavy|book|regular|cond|condensed|narrow|wide|extended|half|prop|display|text|caption|"
    r"titling|style|variable|width|extra|z|v\d|cn))+$", re.IGNORECASE)


@dataclass(frozen=True)
class FontFile:
    path: str
    package: str  # the Debian package that installed it ("" for a file given by hand)
    version: str  # that package's version


@dataclass(frozen=True)
class Face:
    """One face of the built dataset, as the manifest records it."""

    path: str
    package: str
    sha256: str
    name: str  # the font's full name, e.g. "Latin Modern Roman 10 Italic"
    family: str  # the family key the split is made by, e.g. "Latin Modern Roman"
    split: str  # "train" or "test"


# ---------------------------------------------------------------------------------------------
# Finding the fonts


def installed_font_files(packages=FONT_PACKAGES) -> list[FontFile]:
    """The .ttf/.otf files of the installed `packages`, sorted by path (dpkg's file lists)."""
    if shutil.which("dpkg-query") is None:
        raise RuntimeError("the glyphs dataset is built from Debian font packages, and dpkg-query is not here; "
                           "build it on Debian or Ubuntu (see the README)")
    listing = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${db:Status-Status}\n", *packages],
                             capture_output=True, text=True).stdout  # unknown packages go to stderr
    versions = {}
    for line in listing.splitlines():
        package, version, status = line.split("\t")
        if status == "installed":
            versions[package] = version
    missing = [p for p in packages if p not in versions]
    if missing:
        raise RuntimeError(f"{len(missing)} of the glyphs dataset's font packages are not installed ({', '.join(missing[:5])}"
                           f"{', ...' if len(missing) > 5 else ''}); install them with "
                           f"`apt-get install --no-install-recommends {' '.join(packages)}`")
    files = []
    for package in packages:
        listing = subprocess.run(["dpkg-query", "-L", package], capture_output=True, text=True, check=True).stdout
        files += [FontFile(path, package, versions[package]) for path in listing.splitlines()
                  if path.lower().endswith(FONT_SUFFIXES) and Path(path).is_file()]
    return sorted(set(files), key=lambda f: f.path)


def font_names(path: str) -> tuple[str, str] | None:
    """(full name, family key) of a font that maps all 62 characters; None if it lacks any or draws symbols."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
            names = font["name"]
            family = names.getDebugName(16) or names.getDebugName(1) or Path(path).stem  # typographic family first
            full = names.getDebugName(4) or f"{family} {names.getDebugName(2) or ''}".strip()
    except Exception as exc:  # a broken or unsupported file is skipped, not fatal
        log.warning("skipping %s: %s", path, exc)
        return None
    if not all(ord(c) in cmap for c in CHARACTERS) or NOT_LETTERS.search(family):
        return None
    return full, family_key(family)


def family_key(family: str) -> str:
    """The design a family name belongs to: trailing width/weight/size words dropped ("LM Roman 12" -> "LM Roman")."""
    return FAMILY_QUALIFIERS.sub("", family.strip()) or family.strip()


# ---------------------------------------------------------------------------------------------
# Rendering


def render_face(path: str, side: int = IMAGE_SIDE, margin: int = MARGIN) -> np.ndarray:
    """The 62 glyphs of one font: (62, side, side) uint8, light on dark, one em size and baseline for all.

    The em size is the largest at which the face's tallest extent (highest ascender to lowest
    descender, over all 62 glyphs) and its widest glyph fit in `side - 2 * margin` pixels; the
    baseline sits where that extent is centred vertically; each glyph is centred horizontally."""
    from PIL import Image, ImageDraw, ImageFont

    def load(size: float):
        return ImageFont.truetype(path, size=size, layout_engine=ImageFont.Layout.BASIC)

    def extent(font):
        boxes = np.array([font.getbbox(c, anchor="ls") for c in CHARACTERS], dtype=float)  # (62, 4): l, t, r, b from the origin
        return boxes, boxes[:, 1].min(), boxes[:, 3].max(), (boxes[:, 2] - boxes[:, 0]).max()

    reference = 256.0
    _, top, bottom, width = extent(load(reference))
    room = side - 2 * margin
    size = reference * min(room / max(bottom - top, 1.0), room / max(width, 1.0))
    for _ in range(8):  # hinting at the final size can add a pixel: shrink until every glyph fits
        font = load(size)
        boxes, top, bottom, width = extent(font)
        if bottom - top <= room and width <= room:
            break
        size *= 0.97
    baseline = round((side - (bottom - top)) / 2 - top)  # y of the baseline: the face's extent centred
    glyphs = np.zeros((len(CHARACTERS), side, side), dtype=np.uint8)
    for i, (c, (left, _, right, _)) in enumerate(zip(CHARACTERS, boxes)):
        canvas = Image.new("L", (side, side), 0)
        ImageDraw.Draw(canvas).text((round(side / 2 - (left + right) / 2), baseline), c, font=font, fill=255, anchor="ls")
        glyphs[i] = np.asarray(canvas)
    return glyphs


def faulty_glyphs(glyphs: np.ndarray) -> str | None:
    """Why a face's (62, H, W) glyphs cannot be used, or None: a blank glyph, or two characters drawn alike."""
    flat = glyphs.reshape(len(glyphs), -1)
    blank = [CHARACTERS[i] for i in np.flatnonzero(flat.max(axis=1) == 0)]
    if blank:
        return f"no ink for {''.join(blank)}"
    seen: dict[bytes, int] = {}
    for i, row in enumerate(flat):
        if row.tobytes() in seen:
            return f"{CHARACTERS[seen[row.tobytes()]]} and {CHARACTERS[i]} are drawn alike"
        seen[row.tobytes()] = i
    return None


def split_families(families: list[str], fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED) -> set[str]:
    """The held-out families: a seeded `fraction` of the sorted distinct names (at least one)."""
    names = sorted(set(families))
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, math.ceil(fraction * len(names))) if len(names) > 1 else 0
    return {names[i] for i in order[:n_test]}


# ---------------------------------------------------------------------------------------------
# Building and loading


@dataclass(frozen=True)
class Built:
    images: np.ndarray  # (F, 62, H, W) uint8
    faces: list[Face]
    skipped: list[dict]  # {"path", "reason"}


def render_faces(fonts: list[FontFile], side: int = IMAGE_SIDE) -> Built:
    """Render every font that covers the 62 characters, drop faulty and duplicate faces, split by family."""
    rendered, kept, skipped, seen = [], [], [], {}
    for font in fonts:
        names = font_names(font.path)
        if names is None:
            skipped.append({"path": font.path, "reason": "does not map all 62 characters to letters and digits"})
            continue
        glyphs = render_face(font.path, side)
        reason = faulty_glyphs(glyphs)
        key = hashlib.sha256(glyphs.tobytes()).hexdigest()
        if reason is None and key in seen:
            reason = f"duplicates {seen[key]} pixel for pixel"
        if reason:
            skipped.append({"path": font.path, "reason": reason})
            continue
        seen[key] = font.path
        rendered.append(glyphs)
        kept.append((font, names))
    test_families = split_families([family for _, (_, family) in kept])
    faces = [Face(font.path, font.package, sha256_of(font.path), full, family, "test" if family in test_families else "train")
             for font, (full, family) in kept]
    images = np.stack(rendered) if rendered else np.zeros((0, len(CHARACTERS), side, side), np.uint8)
    return Built(images, faces, skipped)


def dataset_dir() -> Path:
    return cache_dir() / "glyphs"


def build(fonts: list[FontFile] | None = None, folder: Path | None = None) -> Path:
    """Render the dataset from `fonts` (default: the installed `FONT_PACKAGES`) into `folder`; returns it.

    Deterministic: the same fonts give the same files."""
    from PIL import __version__ as pillow_version
    from PIL import features
    from safetensors.numpy import save_file

    start = time.perf_counter()
    fonts = installed_font_files() if fonts is None else list(fonts)
    built = render_faces(fonts)
    folder = Path(folder or dataset_dir())
    folder.mkdir(parents=True, exist_ok=True)
    families = sorted({face.family for face in built.faces})
    manifest = {
        "build_version": BUILD_VERSION,
        "characters": CHARACTERS,
        "image_side": IMAGE_SIDE,
        "margin": MARGIN,
        "split": {"by": "family", "test_fraction": TEST_FRACTION, "seed": SPLIT_SEED},
        "renderer": {"pillow": pillow_version, "freetype": features.version("freetype2")},
        "packages": dict(sorted({font.package: font.version for font in fonts if font.package}.items())),
        "families": families,
        "faces": [asdict(face) for face in built.faces],
        "skipped": built.skipped,
    }
    save_file({"images": np.ascontiguousarray(built.images),
               "family": np.array([families.index(f.family) for f in built.faces], dtype=np.int64),
               "test": np.array([f.split == "test" for f in built.faces], dtype=np.uint8)}, str(folder / "glyphs.safetensors"))
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    with _lock:
        _loaded.pop(str(folder), None)
    log.info("glyphs: %d faces of %d families (%d test faces) from %d font files in %.0fs; %d files skipped",
             len(built.faces), len(families), sum(f.split == "test" for f in built.faces), len(fonts),
             time.perf_counter() - start, len(built.skipped))
    return folder


_lock = threading.RLock()  # build() takes it too, inside load_built()
_loaded: dict[str, tuple] = {}


def load_built(folder: Path | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """(images (F, 62, H, W) uint8, family ids (F,), test flags (F,) bool, manifest) of a build; builds on first use."""
    from safetensors.numpy import load_file

    folder = Path(folder or dataset_dir())
    with _lock:
        if str(folder) not in _loaded:
            manifest_path = folder / "manifest.json"
            if not manifest_path.is_file() or json.loads(manifest_path.read_text()).get("build_version") != BUILD_VERSION:
                log.info("building the glyphs dataset into %s (once; `python -m zoo build-dataset glyphs`)", folder)
                build(folder=folder)
            tensors = load_file(str(folder / "glyphs.safetensors"))
            _loaded[str(folder)] = (tensors["images"], tensors["family"], tensors["test"].astype(bool),
                                    json.loads(manifest_path.read_text()))
        return _loaded[str(folder)]


def _split_faces(split: str, folder: Path | None = None) -> np.ndarray:
    _, _, test, _ = load_built(folder)
    return np.flatnonzero(test == (split == "test"))  # face ids (indices into the manifest's faces)


def load(split: str, folder: Path | None = None) -> tuple[Tensor, Tensor]:
    """(images (N, 1, 64, 64) float32 in [0, 1], labels (N,) int64), face by face: image i is character i % 62."""
    images = load_built(folder)[0]
    faces = _split_faces(split, folder)
    x = torch.from_numpy(images[faces].reshape(-1, 1, IMAGE_SIDE, IMAGE_SIDE)).float().div_(255)  # (F*62, 1, H, W)
    return x, torch.arange(len(CHARACTERS)).repeat(len(faces))


def factors(split: str, folder: Path | None = None) -> Tensor:
    """(N, 2) int64: each image's face id and family id (indices into the manifest's `faces` and `families`)."""
    family = load_built(folder)[1]
    faces = _split_faces(split, folder)
    per_image = np.repeat(faces, len(CHARACTERS))
    return torch.from_numpy(np.stack([per_image, family[per_image]], axis=1)).long()


def manifest(folder: Path | None = None) -> dict:
    return load_built(folder)[3]


def source(split: str) -> str:
    """The card's sentence: which faces, the manifest's sha256 and, for the training split, every package's version."""
    m = manifest()
    faces = [f for f in m["faces"] if f["split"] == split]
    digest = hashlib.sha256((dataset_dir() / "manifest.json").read_bytes()).hexdigest()
    sentence = (f"{len(faces)} faces of {len({f['family'] for f in faces})} families ({split} split, by family) rendered by "
                f"`vae-zoo build-dataset glyphs` from {len(m['packages'])} Debian font packages; manifest.json sha256 "
                f"{digest} (it lists every font file's sha256)")
    if split == "train":  # quoted once per card: the test sentence names the same build by its manifest
        sentence += ". Packages: " + ", ".join(f"{name} {version}" for name, version in m["packages"].items())
    return sentence


register_dataset(Dataset(
    name="glyphs",
    input_shape=(1, IMAGE_SIDE, IMAGE_SIDE),
    label_names=tuple(CHARACTERS),
    description=("The 62 characters A–Z, a–z, 0–9 of real typefaces from Debian font packages, 64×64 grey, light on dark, "
                 "one em size and baseline per face. Split by family: a seeded 20% of the families are the test split."),
    framing=Framing(box=IMAGE_SIDE - 2 * MARGIN - 8, centring="box"),  # a drawing is scaled like a capital, centred
    loader=load,
    source_of=source,
    factor_names=("face", "family"),
    factor_loader=factors,
    build=build,
))
