"""The soak's figures, from the answers, what the stock service handled and when the broker was away."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from attrs import frozen

from .ledger import Handled
from .load import Answer


@frozen
class Outage:
    away: float
    back: float
    stock_run: int
    """The run of the stock service (from 1) that lived through it: it has to recover on its own."""


@frozen
class Recovery:
    """After one return of the broker: seconds to the first order answered 200 and to the
    first order handled by the stock service run that lived through the outage (None: never,
    within the soak or before that run was killed)."""

    back: float
    stock_run: int
    to_200: float | None
    to_handled: float | None


@frozen
class Memory:
    """RSS in MiB of a service at the start and at the end of the soak."""

    start: float | None
    end: float | None


@frozen
class Figures:
    broker: str
    outage: str
    sent: int
    statuses: dict[int, int]
    """Answers per HTTP status (0: no answer)."""
    reasons: list[tuple[int, str, int]]
    """(status, reason, count) of the answers other than 200, most frequent first."""
    answered_200: int
    handled: int
    lost: list[int]
    """Orders answered 200 and never handled."""
    duplicates: int
    """Orders handled more than once."""
    extra_handlings: int
    handled_without_200: int
    """Orders handled though not answered 200 (e.g. a 503 after a timeout whose publish still landed)."""
    s503_away: int
    """503 answers to requests in flight while the broker was away."""
    s503_other: int
    recoveries: list[Recovery]
    order_rss: Memory
    stock_rss: Memory
    stock_runs: int
    error_lines: dict[str, int]

    @property
    def passed(self) -> bool:
        """No order answered 200 was lost, and after every return of the broker orders were
        answered 200 and handled again."""
        recovered = all(r.to_200 is not None and r.to_handled is not None for r in self.recoveries)
        return not self.lost and recovered


def figures(broker: str, outage: str, answers: Sequence[Answer], handled: Handled, outages: Sequence[Outage],
            order_rss: Memory, stock_rss: Memory, stock_runs: int, error_lines: dict[str, int]) -> Figures:
    handled.update()
    ok = {a.order_id for a in answers if a.status == 200}
    counts = handled.counts
    during = [a for a in answers if a.status == 503 and any(_overlaps(a, o) for o in outages)]
    return Figures(
        broker=broker, outage=outage, sent=len(answers),
        statuses=dict(sorted(Counter(a.status for a in answers).items())),
        reasons=[(status, reason, n) for (status, reason), n
                 in Counter((a.status, a.reason) for a in answers if a.status != 200).most_common()],
        answered_200=len(ok), handled=len(counts), lost=sorted(ok - counts.keys()),
        duplicates=sum(1 for n in counts.values() if n > 1), extra_handlings=sum(n - 1 for n in counts.values()),
        handled_without_200=len(counts.keys() - ok),
        s503_away=len(during), s503_other=sum(1 for a in answers if a.status == 503) - len(during),
        recoveries=[_recovery(o, answers, handled) for o in outages],
        order_rss=order_rss, stock_rss=stock_rss, stock_runs=stock_runs, error_lines=error_lines,
    )


def _overlaps(answer: Answer, outage: Outage) -> bool:
    return answer.sent <= outage.back and answer.answered >= outage.away


def _recovery(outage: Outage, answers: Sequence[Answer], handled: Handled) -> Recovery:
    first_200 = min((a.answered for a in answers if a.status == 200 and a.answered > outage.back), default=None)
    first_handled = min((at for at, _, run in handled.times if at > outage.back and run == outage.stock_run),
                        default=None)
    return Recovery(
        outage.back, outage.stock_run,
        None if first_200 is None else first_200 - outage.back,
        None if first_handled is None else first_handled - outage.back,
    )


def render(f: Figures, timeline: str) -> str:
    """The report printed at the end of a soak."""
    def seconds(value: float | None) -> str:
        return "never" if value is None else f"{value:.2f} s"

    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} MiB"

    def longest(values: list[float | None]) -> str:
        return "never" if None in values else seconds(max((v for v in values if v is not None), default=None))

    statuses = ", ".join(f"{'no answer' if s == 0 else s}: {n}" for s, n in f.statuses.items())
    lost = ", ".join(map(str, f.lost[:20])) + (" ..." if len(f.lost) > 20 else "")
    lines = [
        f"soak over {f.broker}: {f.outage}",
        "timeline:",
        timeline,
        "figures:",
        f"  orders sent                          {f.sent} ({statuses})",
        *(f"    {n} x {'no answer' if status == 0 else status}: {reason}" for status, reason, n in f.reasons[:5]),
        f"  orders answered 200                  {f.answered_200}",
        f"  orders the stock service handled     {f.handled} (distinct ids, over {f.stock_runs} runs)",
        f"  answered 200 but never handled       {len(f.lost)}" + (f" ({lost})" if f.lost else ""),
        f"  duplicates                           {f.duplicates} order(s) handled more than once "
        f"({f.extra_handlings} extra handling(s))",
        f"  handled though not answered 200      {f.handled_without_200}",
        f"  503s while the broker was away       {f.s503_away}",
        f"  503s at other times                  {f.s503_other}",
    ]
    for n, r in enumerate(f.recoveries, 1):
        lines.append(f"  recovery {n} (broker back at {r.back:.2f}s)   first 200 after {seconds(r.to_200)}, "
                     f"first handled (stock run {r.stock_run}) after {seconds(r.to_handled)}")
    lines += [
        f"  longest recovery                     to first 200: {longest([r.to_200 for r in f.recoveries])}, "
        f"to first handled: {longest([r.to_handled for r in f.recoveries])}",
        f"  order service RSS                    start {mb(f.order_rss.start)}, end {mb(f.order_rss.end)}",
        f"  stock service RSS                    start {mb(f.stock_rss.start)} (first run), "
        f"end {mb(f.stock_rss.end)} (run {f.stock_runs})",
        "  ERROR log lines                      " + ", ".join(f"{k}: {v}" for k, v in f.error_lines.items()),
        f"result: {'PASS' if f.passed else 'FAIL'}"
        + ("" if f.passed else f" ({len(f.lost)} order(s) answered 200 never handled"
           + ("" if all(r.to_200 is not None and r.to_handled is not None for r in f.recoveries)
              else "; a broker return was not followed by orders answered 200 and handled") + ")"),
    ]
    return "\n".join(lines)
