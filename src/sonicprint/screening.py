"""Pure functions for cleaning a labelled collection before any split, as artist-identification studies do.

The second study left out songs shorter than 30 s, songs with several vocalists and instrumentals, so
that every track of an artist carries that artist's voice. These functions give the verdicts: a vocal
score from a pretrained tagger's probabilities (MagnaTagATune tags of musicnn), a test of a credit for
several performers ("A feat. B", "A & B", "Song (ft. B)"), and the reasons a track is left out. Arrays
and strings in, verdicts out; no paths, globals or randomness.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

#: tags that say a voice is heard: MagnaTagATune's (musicnn MTT models), then the Million Song Dataset's
#: Last.fm tags (MSD models)
VOICE_TAGS = (
    "vocal",
    "vocals",
    "voice",
    "singing",
    "male vocal",
    "female vocal",
    "male voice",
    "female voice",
    "male",
    "female",
    "man",
    "woman",
    "choir",
    "choral",
    "opera",
    "female vocalists",
    "male vocalists",
    "female vocalist",
)
#: tags that say none is, in the same two vocabularies
NO_VOICE_TAGS = ("no vocal", "no vocals", "no voice", "instrumental")
#: default cut-off of :func:`vocal_score`: below it a track counts as instrumental (chosen on half of the
#: game-music set against the same tracks with speech mixed in; ``benchmarks/gamemusic_vocal_screen.py``)
INSTRUMENTAL_BELOW = 1.4
_EPS = 1e-6

#: an artist credit naming more than one performer: "feat.", "ft.", "featuring", "vs.", "with", " & ",
#: " x ", " + ", " / ", ";"
#: " ... & the Gang", " + the Machine", " with the Wailers" name a band, not a second performer
_SEVERAL_IN_ARTIST = re.compile(
    r"\b(?:feat\.?|ft\.?|featuring|vs\.?)\s|(?:\bwith|\s(?:&|x|\+|/))\s(?!the\s)|;", flags=re.IGNORECASE
)
#: a title naming a guest: "Song feat. B", "Song (ft. B)", "Song (with B)"; a title's own "&" or "with"
#: ("Rock & Roll", "Dancing with Myself") is not read as one
_SEVERAL_IN_TITLE = re.compile(
    r"\b(?:feat\.|ft\.|featuring)\s|[(\[]\s*(?:feat\.?|ft\.?|featuring|with)\s", flags=re.IGNORECASE
)

TOO_SHORT = "too short"
INSTRUMENTAL = "instrumental"
SEVERAL_PERFORMERS = "several performers"


def vocal_score(tags: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """How strongly a tagger hears a voice: the log ratio of its voice tags' summed probability to its
    no-voice tags' summed probability.

    Parameters
    ----------
    tags : np.ndarray [shape=(..., n_tags)]
        Tag probabilities in ``[0, 1]`` (a track's mean over its patches), in the order of ``names``.
    names : the tag names, ``n_tags`` of them; must include at least one of :data:`VOICE_TAGS` and one of
        :data:`NO_VOICE_TAGS` (musicnn's MagnaTagATune and Million Song Dataset taggers do)

    Returns
    -------
    np.ndarray [shape=(...)], float64
        Natural log of ``(sum of voice tags + eps) / (sum of no-voice tags + eps)``: above 0 the voice
        tags outweigh the others; :data:`INSTRUMENTAL_BELOW` is the default cut-off (for the
        MagnaTagATune tagger: a vocabulary with other tags needs its own).
    """
    tags = np.asarray(tags, dtype=np.float64)
    if tags.ndim < 1 or tags.shape[-1] != len(names):
        raise ValueError(f"tags of shape {tags.shape} do not fit {len(names)} tag names")
    index = {name: i for i, name in enumerate(names)}
    voice = [index[t] for t in VOICE_TAGS if t in index]
    no_voice = [index[t] for t in NO_VOICE_TAGS if t in index]
    for found, kind, known in ((voice, "voice", VOICE_TAGS), (no_voice, "no-voice", NO_VOICE_TAGS)):
        if not found:
            raise ValueError(
                f"the tag names hold no {kind} tag (one of {', '.join(known)}): use a musicnn tagger "
                "(musicnn_mtt_tags, musicnn_msd_tags)"
            )
    if np.any(tags < 0) or np.any(tags > 1) or not np.all(np.isfinite(tags)):
        raise ValueError("tag probabilities must be finite and in [0, 1]")
    return np.asarray(
        np.log(tags[..., voice].sum(axis=-1) + _EPS) - np.log(tags[..., no_voice].sum(axis=-1) + _EPS)
    )


def names_several_performers(credit: str, *, title: bool = False) -> bool:
    """Whether a credit names more than one performer.

    An artist credit (``title=False``) does with ``"A feat. B"``, ``"A ft. B"``, ``"A & B"``, ``"A x B"``,
    ``"A vs. B"``, ``"A with B"``, ``"A + B"``, ``"A / B"``, ``"A; B"``; a band's name is one performer
    ("Florence + the Machine", "Kool & the Gang", "Bob Marley with the Wailers", "AC/DC"). A rule of
    thumb, not a register of bands: "Mumford & Sons" counts as two (``screening.csv`` lists each track
    left out). A title (``title=True``) names a second performer only in a guest's credit:
    ``"Song feat. B"``, ``"Song (ft. B)"``, ``"Song (with B)"``.
    """
    pattern = _SEVERAL_IN_TITLE if title else _SEVERAL_IN_ARTIST
    return bool(pattern.search(f" {credit.strip()} ")) if credit.strip() else False


def screen_reasons(
    *,
    duration_s: float | None,
    min_duration_s: float,
    vocal: float | None = None,
    instrumental_below: float | None = INSTRUMENTAL_BELOW,
    artist_credits: Sequence[str] = (),
    titles: Sequence[str] = (),
) -> tuple[str, ...]:
    """Why a track is left out, empty when it is kept.

    Parameters
    ----------
    duration_s : the track's length (None: unknown, not judged)
    min_duration_s : shorter tracks are left out (:data:`TOO_SHORT`)
    vocal : the track's :func:`vocal_score` (None: not measured, not judged)
    instrumental_below : a score below this is :data:`INSTRUMENTAL`; None keeps instrumentals
    artist_credits, titles : the track's artist credits and titles; one naming several performers
        (:func:`names_several_performers`) is :data:`SEVERAL_PERFORMERS`

    Returns
    -------
    tuple of str
        The reasons, in the order above.
    """
    reasons = []
    if duration_s is not None and duration_s < min_duration_s:
        reasons.append(TOO_SHORT)
    if vocal is not None and instrumental_below is not None and vocal < instrumental_below:
        reasons.append(INSTRUMENTAL)
    if any(names_several_performers(c) for c in artist_credits) or any(
        names_several_performers(t, title=True) for t in titles
    ):
        reasons.append(SEVERAL_PERFORMERS)
    return tuple(reasons)
