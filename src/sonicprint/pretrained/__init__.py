"""Pretrained networks whose weights ship in PyPI packages, run in torch."""
