"""The deep-learning path: spectrogram networks trained on clips, decided per track."""
