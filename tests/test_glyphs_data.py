"""The glyphs dataset on a few faces: rendering, placement, the dedup and skip rules, the split by family, factor ids.

Uses the fonts of fonts-dejavu-core and fonts-liberation2 (installed by .ci/run), never the full build.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from zoo.datasets import get_dataset, glyphs

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
LIBERATION = Path("/usr/share/fonts/truetype/liberation2")
FONTS = [DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf", DEJAVU / "DejaVuSerif.ttf",
         LIBERATION / "LiberationSans-Regular.ttf", LIBERATION / "LiberationMono-Regular.ttf"]
pytestmark = pytest.mark.skipif(not all(f.is_file() for f in FONTS), reason="needs fonts-dejavu-core and fonts-liberation2")


def index(character: str) -> int:
    return glyphs.CHARACTERS.index(character)


def ink_rows(glyph: np.ndarray) -> tuple[int, int]:
    """First and last row with ink."""
    rows = np.flatnonzero(glyph.max(axis=1) > 127)
    return int(rows[0]), int(rows[-1])


@pytest.fixture(scope="module")
def sans() -> np.ndarray:
    return glyphs.render_face(str(DEJAVU / "DejaVuSans.ttf"))


def test_a_face_renders_62_glyphs_light_on_dark_inside_the_frame(sans):
    assert sans.shape == (62, 64, 64) and sans.dtype == np.uint8
    assert (sans.reshape(62, -1).max(axis=1) == 255).all()  # every character has ink
    assert np.median(sans) == 0  # a dark background
    border = np.concatenate([sans[:, 0], sans[:, -1], sans[:, :, 0], sans[:, :, -1]], axis=1)
    assert border.max() == 0  # nothing is cut off at the edges
    assert glyphs.faulty_glyphs(sans) is None


def test_glyphs_of_a_face_share_a_baseline_and_an_em_size(sans):
    bottoms = {c: ink_rows(sans[index(c)])[1] for c in "HExzk1"}
    assert len(set(bottoms.values())) == 1  # flat-bottomed glyphs stand on one baseline
    top = {c: ink_rows(sans[index(c)])[0] for c in "AaloHxgp"}
    assert top["a"] > top["A"] + 5  # "a" sits lower than "A": an x-height below the cap height
    assert top["o"] - top["l"] > 5  # "l" is taller than "o"
    assert ink_rows(sans[index("g")])[1] > bottoms["x"] + 5  # descenders go below the baseline
    assert ink_rows(sans[index("x")])[0] == ink_rows(sans[index("z")])[0]  # one x-height


def test_faces_are_scaled_so_their_tallest_extent_fills_the_frame(sans):
    tops = [ink_rows(g)[0] for g in sans]
    bottoms = [ink_rows(g)[1] for g in sans]
    room = 64 - 2 * glyphs.MARGIN
    assert room - 4 <= max(bottoms) - min(tops) + 1 <= room


def test_faulty_faces_are_named():
    face = np.zeros((62, 8, 8), np.uint8)
    face[:, 1, 1] = 255
    for i in range(62):
        face[i, 2 + i % 6, 2 + i // 6 % 6] = 255
        face[i, 7, i // 36] = 255
    assert glyphs.faulty_glyphs(face) is None
    blank = face.copy()
    blank[index("q")] = 0
    assert glyphs.faulty_glyphs(blank) == "no ink for q"
    caps_only = face.copy()
    caps_only[index("b")] = caps_only[index("B")]
    assert glyphs.faulty_glyphs(caps_only) == "B and b are drawn alike"


def test_family_keys_group_the_variants_of_one_design():
    assert glyphs.family_key("LM Roman 12") == "LM Roman"
    assert glyphs.family_key("Latin Modern Roman Slanted") == "Latin Modern Roman"
    assert glyphs.family_key("Clear Sans Light") == "Clear Sans"
    assert glyphs.family_key("DejaVu Sans Mono") == "DejaVu Sans Mono"


def test_split_families_is_seeded_and_holds_out_at_least_the_fraction():
    names = [f"family {i}" for i in range(40)]
    test = glyphs.split_families(names)
    assert test == glyphs.split_families(list(reversed(names)))  # the order given does not matter
    assert len(test) >= 0.15 * len(names) and test < set(names)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A build from five fonts plus a byte-for-byte copy of one of them (a duplicate) and a symbol font."""
    folder = tmp_path_factory.mktemp("glyphs")
    copy = folder / "copy" / "DejaVuSans-copy.ttf"
    copy.parent.mkdir()
    shutil.copy(FONTS[0], copy)
    fonts = [glyphs.FontFile(str(f), "", "") for f in [*FONTS, copy]]
    return glyphs.build(fonts, folder=folder / "build")


def test_the_build_drops_duplicates_and_records_every_face(built):
    manifest = json.loads((built / "manifest.json").read_text())
    paths = [face["path"] for face in manifest["faces"]]
    assert len(paths) == len(FONTS) and not any("copy" in p for p in paths)
    skipped = {Path(s["path"]).name: s["reason"] for s in manifest["skipped"]}
    assert skipped["DejaVuSans-copy.ttf"] == f"duplicates {FONTS[0]} pixel for pixel"
    for face in manifest["faces"]:
        assert face["sha256"] == hashlib.sha256(Path(face["path"]).read_bytes()).hexdigest()
    assert sorted(manifest["families"]) == ["DejaVu Sans", "DejaVu Serif", "Liberation Mono", "Liberation Sans"]


def test_the_build_is_deterministic(built, tmp_path):
    fonts = [glyphs.FontFile(f["path"], "", "") for f in json.loads((built / "manifest.json").read_text())["faces"]]
    again = glyphs.build(fonts, folder=tmp_path)
    assert (again / "glyphs.safetensors").read_bytes() == (built / "glyphs.safetensors").read_bytes()


def test_splits_are_by_family_and_factors_name_each_image_s_face(built):
    manifest = json.loads((built / "manifest.json").read_text())
    by_split = {split: {f["family"] for f in manifest["faces"] if f["split"] == split} for split in ("train", "test")}
    assert by_split["test"] and by_split["train"] and not by_split["test"] & by_split["train"]
    seen_faces = set()
    for split in ("train", "test"):
        images, labels = glyphs.load(split, built)
        factors = glyphs.factors(split, built)
        assert images.shape == (len(labels), 1, 64, 64) and factors.shape == (len(labels), 2)
        assert labels.tolist() == list(range(62)) * (len(labels) // 62)  # face by face, A to 9
        for start in range(0, len(labels), 62):
            face, family = factors[start].tolist()
            assert (factors[start:start + 62] == factors[start]).all()  # one face per 62 images
            record = manifest["faces"][face]
            assert record["split"] == split and manifest["families"][family] == record["family"]
            expected = glyphs.render_face(record["path"])
            assert np.array_equal((images[start:start + 62, 0] * 255).round().byte().numpy(), expected)
            seen_faces.add(face)
    assert seen_faces == set(range(len(manifest["faces"])))


def test_the_registered_dataset_reads_the_cache(built, monkeypatch):
    monkeypatch.setattr(glyphs, "dataset_dir", lambda: built)
    dataset = get_dataset("glyphs")
    images, labels = dataset.load("test")
    assert dataset.factor_names == ("face", "family") and dataset.num_classes == 62
    assert dataset.factors("test").shape == (len(labels), 2)
    assert "faces of" in dataset.source("test")
