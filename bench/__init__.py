"""Spine's benchmark suite: ``./dev bench`` runs every benchmark and prints the figures."""
