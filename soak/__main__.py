"""``python -m soak [--broker kafka|rabbitmq|nats] [--minutes N | --seconds N]`` (or ``./dev soak``):
run the chaos soak, print its timeline and figures; exit 1 if an order answered 200 was
never handled or the services did not recover after a broker return."""

from __future__ import annotations

import argparse
import sys

from .report import render
from .run import Plan, soak


def main() -> int:
    parser = argparse.ArgumentParser(prog="./dev soak", description=__doc__.splitlines()[0])
    parser.add_argument("--broker", choices=("kafka", "rabbitmq", "nats"), default="kafka")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long orders are sent (default: 1 minute)")
    length.add_argument("--seconds", type=float, help="the same, in seconds")
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second (default 20)")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds the broker stays away each time (5)")
    parser.add_argument("--drain", type=float, default=60.0,
                        help="seconds the stock service may take at the end to handle every order (60)")
    args = parser.parse_args()
    seconds = args.seconds if args.seconds is not None else (args.minutes or 1.0) * 60
    if seconds <= 0 or args.rate <= 0 or args.outage <= 0:
        parser.error("--minutes/--seconds, --rate and --outage must be positive")
    result = soak(Plan(broker=args.broker, seconds=seconds, rate=args.rate, outage=args.outage, drain=args.drain))
    print(render(result.figures, result.timeline), flush=True)
    return 0 if result.figures.passed else 1


if __name__ == "__main__":
    sys.exit(main())
