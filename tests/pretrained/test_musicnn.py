"""The torch port against outputs of the original TensorFlow models (tests/fixtures, made by
scripts/make_musicnn_reference.py), and the float16 overflow of the original preprocessing."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.config import FeatureConfig
from sonicprint.features import create_extractor
from sonicprint.pretrained.musicnn import (
    PATCH_FRAMES,
    VARIANTS,
    VGG_VARIANTS,
    MusicVGG,
    embed_patches,
    load_musicnn,
    maker_tag_profiles,
    musicnn_input,
    tag_names,
)

REFERENCE = np.load(Path(__file__).parent.parent / "fixtures" / "musicnn_reference.npz")


PORTED_OUTPUTS = [(v, o) for v in VARIANTS for o in ("tags", "penultimate", "mean_pool", "max_pool")] + [
    (v, o) for v in VGG_VARIANTS for o in ("tags", "pooled", "pool5")
]


@pytest.mark.parametrize(("variant", "output"), PORTED_OUTPUTS)
def test_torch_port_matches_tensorflow(variant, output):
    with torch.inference_mode():
        ours = load_musicnn(variant)(torch.from_numpy(REFERENCE["patches"]))[output].numpy()
    reference = REFERENCE[f"{variant}/{output}"]
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_preprocessing_matches_musicnn_batch_data():
    audio = REFERENCE["audio_int16"].astype(np.float32) / 32768.0
    ours = musicnn_input(audio)
    assert ours.shape == REFERENCE["patches"].shape == (2, PATCH_FRAMES, 96)
    np.testing.assert_allclose(ours, REFERENCE["patches"], atol=1e-4)


def test_short_audio_is_padded_to_one_patch():
    assert musicnn_input(np.zeros(16000, dtype=np.float32)).shape == (1, PATCH_FRAMES, 96)


def loud_audio() -> np.ndarray:
    """A full-scale square wave with a bass note: ordinary for mastered music, mel power far above 6.55."""
    t = np.arange(16000 * 6) / 16000
    return (0.99 * np.sign(np.sin(2 * np.pi * 110 * t)) * 0.7 + 0.29 * np.sin(2 * np.pi * 55 * t)).astype(
        np.float32
    )


def test_loud_audio_overflows_the_original_float16_formula_but_not_ours():
    import librosa

    audio = loud_audio()
    mel = librosa.feature.melspectrogram(y=audio, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    with np.errstate(over="ignore"):
        original = np.log10(10000 * mel.astype(np.float16) + 1)  # musicnn's batch_data
    assert np.isinf(original).any()  # the bug this guards against is real for this input
    patches = musicnn_input(audio)
    assert np.all(np.isfinite(patches))
    for variant in VARIANTS + VGG_VARIANTS:
        outputs = embed_patches(patches, variant=variant)
        assert all(np.all(np.isfinite(v)) for v in outputs.values())


def test_vgg_variants_load_as_the_vgg_architecture():
    assert all(isinstance(load_musicnn(variant), MusicVGG) for variant in VGG_VARIANTS)


@pytest.mark.parametrize(
    ("name", "dims"),
    [
        ("musicnn_msd_penultimate", 400),
        ("musicnn_mtt_penultimate", 400),
        ("musicnn_msd_tags", 100),
        ("musicnn_mtt_tags", 100),
        ("musicnn_msd_pool", 1506),
        ("musicnn_mtt_pool", 1506),
        ("musicnn_msd_vgg_pool5", 512),
        ("musicnn_mtt_vgg_pool5", 512),
        ("musicnn_msd_vgg_pooled", 1280),
        ("musicnn_mtt_vgg_pooled", 1280),
    ],
)
def test_extractors_summarise_patches_per_track(name, dims):
    extractor = create_extractor(FeatureConfig(extractor=name))
    assert extractor.sample_rate == 16000
    out = extractor.compute([loud_audio(), loud_audio()[:48000]])
    assert out.shape == (dims,)
    assert np.all(np.isfinite(out))


def test_two_layers_of_one_network_share_one_pass(monkeypatch):
    from sonicprint.pretrained import musicnn

    passes = []
    real = musicnn.embed_patches

    def counted(patches, *, variant):  # type: ignore[no-untyped-def]
        passes.append(variant)
        return real(patches, variant=variant)

    monkeypatch.setattr(musicnn, "embed_patches", counted)
    monkeypatch.setattr(musicnn, "_last_pass", OrderedDict())
    clips = [loud_audio(), loud_audio()[:48000]]
    names = ("musicnn_msd_penultimate", "musicnn_msd_pool", "musicnn_mtt_penultimate")
    shared = [create_extractor(FeatureConfig(extractor=name)).compute(clips) for name in names]
    assert passes == ["MSD_musicnn", "MTT_musicnn"]  # the second MSD layer reused the first pass
    for name, features in zip(names, shared):  # the same features as each extractor on its own
        musicnn._last_pass.clear()
        np.testing.assert_array_equal(
            create_extractor(FeatureConfig(extractor=name)).compute(clips), features
        )
    other = [clips[0][::-1].copy(), clips[1]]
    create_extractor(FeatureConfig(extractor="musicnn_mtt_penultimate")).compute(other)
    assert len(passes) == 2 + len(names) + 1  # other audio, another pass
    outputs = musicnn.embed_audio(other, variant="MTT_musicnn")
    assert not outputs["penultimate"].flags.writeable
    # windows summarised one by one (--per-window): every window's pass is kept for the next layer
    windows = [clips[1] * gain for gain in (1.0, 0.5, 0.25)]  # three windows of distinct audio
    before = len(passes)
    for name in names[:2]:
        [create_extractor(FeatureConfig(extractor=name)).compute([w]) for w in windows]
    assert len(passes) == before + len(windows)
    monkeypatch.setattr(musicnn, "KEPT_PASSES", 1)  # only the latest kept: the first window runs again
    musicnn._last_pass.clear()
    before = len(passes)
    for window in (windows[0], windows[1], windows[0]):
        musicnn.embed_audio([window], variant="MSD_musicnn")
    assert len(passes) == before + 3 and len(musicnn._last_pass) == 1


@pytest.mark.parametrize("variant", VARIANTS + VGG_VARIANTS)
def test_each_network_names_its_fifty_tags_in_output_order(variant):
    names = tag_names(variant)
    with torch.inference_mode():
        tags = load_musicnn(variant)(torch.from_numpy(REFERENCE["patches"][:1]))["tags"]
    assert len(names) == tags.shape[1] == 50
    assert ("instrumental" in names) is variant.startswith("MSD") and ("no vocals" in names) is (
        variant.startswith("MTT")
    )


def test_a_makers_tags_are_those_above_the_collection_largest_excess_first():
    names = ["rock", "jazz", "ambient"]
    tags = np.array(
        [
            [0.9, 0.1, 0.30],  # A
            [0.8, 0.2, 0.30],  # A
            [0.1, 0.7, 0.35],  # B
            [0.2, 0.6, 0.40],  # B
            [0.1, 0.1, 0.30],  # C
        ]
    )
    profiles = maker_tag_profiles(tags, ["A", "A", "B", "B", "C"], names, top=2)
    assert list(profiles) == ["A", "B", "C"]
    assert profiles["A"] == [("rock", pytest.approx(0.85), pytest.approx(0.2))]  # jazz, ambient not above
    assert [t for t, _, _ in profiles["B"]] == ["jazz", "ambient"]
    assert profiles["C"] == []  # nothing this maker's tracks get more than the collection's
    with pytest.raises(ValueError, match=r"tags of shape \(5, 3\) do not fit 4 labels and 3 tag names"):
        maker_tag_profiles(tags, ["A"] * 4, names)
    with pytest.raises(ValueError, match="unknown musicnn variant 'FMA_musicnn'"):
        tag_names("FMA_musicnn")


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_tracks=st.integers(1, 30), top=st.integers(1, 6))
def test_tag_profiles_list_only_tags_above_the_collection_for_every_maker(seed, n_tracks, top):
    rng = np.random.default_rng(seed)
    names = [f"tag{i}" for i in range(8)]
    tags = rng.uniform(size=(n_tracks, len(names)))
    labels = list(rng.choice(["A", "B", "C"], size=n_tracks))
    profiles = maker_tag_profiles(tags, labels, names, top=top)
    assert sorted(profiles) == sorted(set(labels))
    overall = np.median(tags, axis=0)
    for maker, listed in profiles.items():
        assert len(listed) <= top
        excess = [mine - collection for _, mine, collection in listed]
        assert all(e > 0 for e in excess) and excess == sorted(excess, reverse=True)
        for tag, mine, collection in listed:
            column = names.index(tag)
            assert collection == pytest.approx(overall[column])
            assert mine == pytest.approx(np.median(tags[np.asarray(labels) == maker, column]))
