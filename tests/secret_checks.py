"""Where a secret could show, searched: the seed's order service started on a broker (or a
database) that refuses it or cannot be reached, then its logs, exceptions, readiness, metrics,
AsyncAPI document, answers, CLI output and the reprs of its options and settings.

Each broker's tests call :func:`shown_everywhere` with the ``SPINE_*`` environment that holds
the secret, then assert :func:`leaks` is empty and that the places say what went wrong.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping

import pytest
from attrs import evolve
from click.testing import CliRunner
from falcon.testing import TestClient

from apps import order_app
from spine_core.cli.main import cli
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime

ASYNCAPI = "/asyncapi.json"


def shown_everywhere(env: Mapping[str, str], caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Every text the order service shows on ``env``, by place (the CLI is run with it too)."""
    env = {"SPINE_PUBLISH_TIMEOUT": "2", **env}
    places: dict[str, str] = {}
    options = order_app.options().with_env(env)
    options = evolve(options, address="127.0.0.1:0", shutdown_timeout=2.0,
                     ops=evolve(options.ops, asyncapi_path=ASYNCAPI))
    places["repr of options"] = repr(options) + repr(BrokerConfig.from_options(options))
    runtime = None
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():  # the app reads SPINE_POSTGRES_* itself
            mp.setenv(name, value)
        try:
            runtime = Runtime(order_app.create_app(), options)
            places["repr of the plugin"] = repr(vars(runtime.broker))
            runtime.start()
        except Exception as e:
            places["exception"] = "".join(traceback.format_exception(e))
        if runtime is not None and runtime.wsgi is not None:
            client = TestClient(runtime.wsgi)
            for path in ("/health/ready", "/metrics", ASYNCAPI):
                answer = client.simulate_get(path)
                places[path] = f"{answer.status} {answer.text}"
            answer = client.simulate_post("/orders/12345")
            places["POST /orders/12345"] = f"{answer.status} {answer.text}"
            runtime.close(2.0)
        runner = CliRunner()
        for args in (["asyncapi", "apps.order_app"], ["dlq", "list", "order.created", "--app", "apps.order_app"]):
            result = runner.invoke(cli, args, env=dict(env))
            places["spine " + " ".join(args)] = result.output + (
                "".join(traceback.format_exception(result.exception)) if result.exception else "")
    formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
    places["logs"] = "\n".join(formatter.format(record) for record in caplog.records)
    return places


def leaks(places: Mapping[str, str], *secrets: str) -> list[str]:
    """The places that show one of ``secrets``."""
    return [f"{place}: {secret!r}" for place, text in places.items() for secret in secrets if secret in text]
