"""The chaos soak: the seed's order and stock services as processes over a broker that goes
away twice, a stock service killed twice, a steady stream of orders, and every order counted.

``python -m soak --broker kafka --seconds 60`` (or ``./dev soak``); see docs/guides/soak.md.
"""
