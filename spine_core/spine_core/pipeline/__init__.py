"""Stages shared by HTTP routes and consumers: plan a handler at boot, run it per call."""
