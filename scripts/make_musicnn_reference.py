"""Make tests/fixtures/musicnn_reference.npz with the ORIGINAL musicnn TensorFlow models.

Run once, in a throwaway environment (TensorFlow is never a dependency of Sonicprint):

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install 'tensorflow-cpu==2.15.1' 'numpy<2' 'librosa==0.10.2'
    /tmp/tfenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfenv/bin/python scripts/make_musicnn_reference.py

It synthesises 6 s of deterministic audio at 16 kHz (tones, a chirp, clicks and noise), computes the
musicnn input exactly as musicnn's ``batch_data`` does but in float32, runs MSD_musicnn, MTT_musicnn,
MSD_vgg and MTT_vgg through musicnn's own graph (``musicnn.models.define_model``) restored from the packaged
checkpoints, and stores the audio (int16), the input patches and every output the torch port must match.
"""

from __future__ import annotations

import os
from pathlib import Path

import librosa
import numpy as np
import tensorflow as tf
from musicnn import configuration as config
from musicnn import models

tf.compat.v1.disable_eager_execution()
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "musicnn_reference.npz"


def audio() -> np.ndarray:
    rng = np.random.default_rng(20261122)
    sr, seconds = config.SR, 6.0
    t = np.arange(int(sr * seconds)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 330 * t * (1 + 0.1 * t))
    y += 0.05 * np.sin(2 * np.pi * (100 + 600 * t) * t)  # chirp
    y[:: sr // 4] += 0.8  # clicks
    y += 0.02 * rng.standard_normal(len(t))
    return np.round(np.clip(y, -1, 1) * 32767).astype(np.int16)


def main() -> None:
    pcm = audio()
    y = pcm.astype(np.float32) / 32768.0
    rep = librosa.feature.melspectrogram(
        y=y, sr=config.SR, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE, n_mels=config.N_MELS
    ).T
    rep = np.log10(10000 * rep.astype(np.float32) + 1)  # musicnn's formula, without its float16 overflow
    n_frames = librosa.time_to_frames(3, sr=config.SR, n_fft=config.FFT_SIZE, hop_length=config.FFT_HOP) + 1
    patches = np.stack([rep[s : s + n_frames] for s in range(0, rep.shape[0] - n_frames + 1, n_frames)])
    result = {"audio_int16": pcm, "patches": patches.astype(np.float32)}
    package = Path(models.__file__).parent
    for variant in ("MSD_musicnn", "MTT_musicnn"):
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y_, _, _, _, _, _, mean_pool, max_pool, penultimate = models.define_model(
                x, is_training, variant, 50
            )
            tags = tf.nn.sigmoid(y_)
        with tf.compat.v1.Session() as sess:
            tf.compat.v1.train.Saver().restore(sess, os.path.join(str(package), variant) + "/")
            out = sess.run(
                [tags, penultimate, mean_pool, max_pool], feed_dict={x: patches, is_training: False}
            )
        for name, value in zip(("tags", "penultimate", "mean_pool", "max_pool"), out):
            result[f"{variant}/{name}"] = np.asarray(value, dtype=np.float32)
    for variant in ("MSD_vgg", "MTT_vgg"):
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, n_frames, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y_, *pools = models.define_model(x, is_training, variant, 50)
            tags = tf.nn.sigmoid(y_)
        with tf.compat.v1.Session() as sess:
            tf.compat.v1.train.Saver().restore(sess, os.path.join(str(package), variant) + "/")
            out = sess.run([tags, *pools], feed_dict={x: patches, is_training: False})
        result[f"{variant}/tags"] = np.asarray(out[0], dtype=np.float32)
        # each pooling averaged over time and frequency, and the flattened last one (the tag layer's input)
        pooled = np.concatenate([p.mean(axis=(1, 2)) for p in out[1:]], axis=1)
        result[f"{variant}/pooled"] = pooled.astype(np.float32)
        result[f"{variant}/pool5"] = out[-1].reshape(len(patches), -1).astype(np.float32)
    result["versions"] = np.array(
        f"tensorflow {tf.__version__}; librosa {librosa.__version__}; numpy {np.__version__}"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(OUT, **result)
    print(
        f"wrote {OUT} ({OUT.stat().st_size} bytes): "
        + ", ".join(f"{k} {np.shape(v)}" for k, v in result.items())
    )


if __name__ == "__main__":
    main()
