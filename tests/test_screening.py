"""The cleaning verdicts: vocal score from tag probabilities, credits naming several performers, reasons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sonicprint.screening import (
    INSTRUMENTAL,
    NO_VOICE_TAGS,
    SEVERAL_PERFORMERS,
    TOO_SHORT,
    VOICE_TAGS,
    names_several_performers,
    screen_reasons,
    vocal_score,
)

NAMES = ["guitar", "piano", *VOICE_TAGS[:4], *NO_VOICE_TAGS]


def tags_with(voice: float, no_voice: float) -> np.ndarray:
    tags = np.full(len(NAMES), 0.05)
    for i, name in enumerate(NAMES):
        if name in VOICE_TAGS:
            tags[i] = voice
        elif name in NO_VOICE_TAGS:
            tags[i] = no_voice
    return tags


def test_vocal_score_is_the_log_ratio_of_voice_to_no_voice_tags():
    score = vocal_score(tags_with(0.2, 0.1), NAMES)
    assert score.shape == ()
    assert score == pytest.approx(np.log((4 * 0.2 + 1e-6) / (len(NO_VOICE_TAGS) * 0.1 + 1e-6)))


def test_vocal_score_keeps_the_leading_shape():
    tags = np.stack([np.stack([tags_with(v, 0.1) for v in (0.0, 0.1, 0.5)])] * 2)  # (2, 3, n_tags)
    scores = vocal_score(tags, NAMES)
    assert scores.shape == (2, 3) and scores.dtype == np.float64
    assert np.all(np.diff(scores, axis=1) > 0)


@settings(max_examples=50, deadline=None)
@given(
    voice=st.floats(0.0, 0.9),
    no_voice=st.floats(0.0, 0.9),
    more=st.floats(0.01, 0.1),
)
def test_more_voice_raises_the_score_and_more_no_voice_lowers_it(voice, no_voice, more):
    base = vocal_score(tags_with(voice, no_voice), NAMES)
    assert vocal_score(tags_with(voice + more, no_voice), NAMES) > base
    assert vocal_score(tags_with(voice, no_voice + more), NAMES) < base


def test_the_million_song_datasets_vocabulary_is_read_too():
    names = ["rock", "female vocalists", "male vocalists", "instrumental"]
    assert vocal_score(np.array([0.9, 0.3, 0.1, 0.2]), names) == pytest.approx(
        np.log((0.4 + 1e-6) / (0.2 + 1e-6))
    )


def test_tags_of_other_tags_do_not_move_the_score():
    tags = tags_with(0.3, 0.2)
    other = tags.copy()
    other[:2] = 0.9  # guitar, piano
    assert vocal_score(other, NAMES) == vocal_score(tags, NAMES)


@pytest.mark.parametrize(
    ("tags", "names", "match"),
    [
        (np.zeros(3), NAMES, "do not fit"),
        (np.zeros(2), ["guitar", "piano"], "no voice tag"),
        (np.zeros(2), ["vocal", "guitar"], "no no-voice tag"),
        (np.full(len(NAMES), 1.5), NAMES, r"in \[0, 1\]"),
        (np.full(len(NAMES), np.nan), NAMES, "finite"),
    ],
)
def test_vocal_score_refuses_what_it_cannot_read(tags, names, match):
    with pytest.raises(ValueError, match=match):
        vocal_score(tags, names)


@pytest.mark.parametrize(
    ("credit", "several"),
    [
        ("Artist feat. Guest", True),
        ("Artist ft. Guest", True),
        ("Artist featuring Guest", True),
        ("Simon & Garfunkel", True),
        ("Artist x Guest", True),
        ("Artist vs. Guest", True),
        ("Artist with Guest", True),
        ("Artist + Guest", True),
        ("Artist / Guest", True),
        ("Artist; Guest", True),
        ("Florence and the Machine", False),
        ("Florence + the Machine", False),
        ("Kool & the Gang", False),
        ("Bob Marley with the Wailers", False),
        ("AC/DC", False),
        ("Max Richter", False),
        ("Xavier", False),
        ("", False),
    ],
)
def test_artist_credits_naming_several_performers(credit, several):
    assert names_several_performers(credit) is several


@pytest.mark.parametrize(
    ("title", "several"),
    [
        ("Song feat. Guest", True),
        ("Song (ft. Guest)", True),
        ("Song [featuring Guest]", True),
        ("Song (with Guest)", True),
        ("Dancing with Myself", False),
        ("Rock & Roll", False),
        ("Love Song", False),
    ],
)
def test_titles_naming_a_guest(title, several):
    assert names_several_performers(title, title=True) is several


def test_screen_reasons_in_order_and_empty_when_kept():
    assert screen_reasons(duration_s=40.0, min_duration_s=30.0, vocal=2.0) == ()
    assert screen_reasons(
        duration_s=20.0,
        min_duration_s=30.0,
        vocal=-1.0,
        artist_credits=["A feat. B"],
    ) == (TOO_SHORT, INSTRUMENTAL, SEVERAL_PERFORMERS)
    assert screen_reasons(duration_s=40.0, min_duration_s=30.0, titles=["Song (ft. B)"]) == (
        SEVERAL_PERFORMERS,
    )


def test_unmeasured_or_unwanted_checks_are_not_judged():
    assert screen_reasons(duration_s=None, min_duration_s=30.0, vocal=None) == ()
    assert screen_reasons(duration_s=40.0, min_duration_s=30.0, vocal=-5.0, instrumental_below=None) == ()
    assert screen_reasons(duration_s=40.0, min_duration_s=30.0, vocal=0.5, instrumental_below=0.0) == ()
    assert screen_reasons(duration_s=40.0, min_duration_s=30.0, vocal=0.5, instrumental_below=1.0) == (
        INSTRUMENTAL,
    )


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(NAME, min_size=1, max_size=4),
    guest=NAME,
    marker=st.sampled_from(["feat.", "ft.", "featuring"]),
)
def test_a_guest_credit_always_counts_and_a_plain_name_never_does(words, guest, marker):
    name = " ".join(words)
    assert names_several_performers(f"{name} {marker} {guest}")
    assert names_several_performers(f"{name} ({marker} {guest})", title=True)
    plain = " ".join(w for w in words if w.lower() not in ("x", "with", "vs", "feat", "ft", "featuring"))
    assert not names_several_performers(plain)
    assert not names_several_performers(plain, title=True)
