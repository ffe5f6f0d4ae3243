"""Constructor injection: singletons from type hints, and wiring mistakes caught at boot."""

from __future__ import annotations

import pytest

from spine_core import BootError, Spine
from spine_core.container import Container

from .support import options


class Clock:
    pass


class Repository:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock


class Service:
    def __init__(self, repository: Repository, clock: Clock, retries: int = 3) -> None:
        self.repository = repository
        self.clock = clock
        self.retries = retries


class Settings:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn


def make_settings() -> Settings:
    return Settings("postgres://")


def not_a_factory():  # type: ignore[no-untyped-def]
    return 1


class Needy:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


class Unannotated:
    def __init__(self, thing) -> None:  # type: ignore[no-untyped-def]
        self.thing = thing


class Chicken:
    def __init__(self, egg: Egg) -> None:
        self.egg = egg


class Egg:
    def __init__(self, chicken: Chicken) -> None:
        self.chicken = chicken


class Selfish:
    def __init__(self, me: Selfish) -> None:
        self.me = me


def test_builds_dependencies_from_type_hints() -> None:
    """A class's annotated parameters are built from the registered constructors."""
    c = Container()
    for factory in (Clock, Repository, Service):
        c.register(factory)
    service = c.get(Service)
    assert isinstance(service.repository, Repository)
    assert isinstance(service.clock, Clock)


def test_instances_are_singletons() -> None:
    """Every consumer of a type gets the one instance, built once."""
    c = Container()
    for factory in (Clock, Repository, Service):
        c.register(factory)
    service = c.get(Service)
    assert service.clock is service.repository.clock is c.get(Clock)
    assert c.get(Service) is service


def test_parameters_with_defaults_are_not_injected() -> None:
    """A parameter with a default keeps its default."""
    c = Container()
    for factory in (Clock, Repository, Service):
        c.register(factory)
    assert c.get(Service).retries == 3


def test_factory_function_produces_its_return_annotation() -> None:
    """A function registered as a constructor provides the class it is annotated to return."""
    c = Container()
    c.register(make_settings)
    c.register(Needy)
    assert c.get(Needy).settings.dsn == "postgres://"


def test_factory_without_class_return_is_a_boot_error() -> None:
    """A factory whose return annotation is not a class is refused at registration."""
    with pytest.raises(BootError, match="not_a_factory needs a class as its return annotation"):
        Container().register(not_a_factory)


def test_missing_dependency_names_the_type_and_who_needs_it() -> None:
    """A dependency nobody constructs is a BootError naming it and its dependent."""
    c = Container()
    c.register(Repository)
    with pytest.raises(BootError, match=r"no constructor registered for Clock \(needed by Repository\)"):
        c.get(Repository)


def test_cycle_is_reported_with_its_path() -> None:
    """A dependency cycle is a BootError that spells out the cycle."""
    c = Container()
    c.register(Chicken)
    c.register(Egg)
    with pytest.raises(BootError, match="dependency cycle: Chicken -> Egg -> Chicken"):
        c.get(Chicken)


def test_self_dependency_is_a_cycle() -> None:
    """A class that needs itself is a cycle, not infinite recursion."""
    c = Container()
    c.register(Selfish)
    with pytest.raises(BootError, match="dependency cycle: Selfish -> Selfish"):
        c.get(Selfish)


def test_unannotated_parameter_is_a_boot_error() -> None:
    """A constructor parameter without a type annotation cannot be injected."""
    c = Container()
    c.register(Unannotated)
    with pytest.raises(BootError, match="parameter 'thing' has no type annotation"):
        c.get(Unannotated)


def test_two_constructors_for_one_type_are_refused() -> None:
    """Registering two constructors that produce the same class is a BootError."""
    c = Container()
    c.register(Settings)
    with pytest.raises(BootError, match="two constructors produce Settings"):
        c.register(make_settings)


def test_provided_instance_is_injected() -> None:
    """``provide`` makes an existing object injectable."""
    c = Container()
    settings = Settings("sqlite://")
    c.provide(Settings, settings)
    c.register(Needy)
    assert c.get(Needy).settings is settings


def test_instance_registers_a_class_on_first_use() -> None:
    """``instance`` builds an unregistered class once and passes other objects through."""
    c = Container()
    c.register(Clock)
    repo = c.instance(Repository)
    assert c.instance(Repository) is repo
    marker = object()
    assert c.instance(marker) is marker


def test_wiring_errors_surface_when_the_app_boots() -> None:
    """A missing dependency fails when the app is wired, before any request arrives."""
    app = Spine()
    app.constructor(Repository)
    with pytest.raises(BootError, match="no constructor registered for Clock"):
        app.runtime(options())
