"""The settings reader: typed reads with defaults, and BootErrors that name the setting and the value."""

from __future__ import annotations

import pytest

from spine_core.broker import BootError, SettingsReader


def test_absent_keys_give_the_defaults() -> None:
    """A key that is not set reads as the default given, whatever its type."""
    read = SettingsReader("demo", {})
    assert read.text("url", "u") == "u"
    assert read.integer("workers", 8, minimum=1) == 8
    assert read.flag("create", True) is True
    assert read.seconds("idle", 2.5) == 2.5
    assert read.choice("type", "quorum", ("quorum", "classic")) == "quorum"


def test_values_are_read_as_their_type() -> None:
    """Text becomes an int, a bool, seconds or a checked choice."""
    read = SettingsReader("demo", {"workers": "3", "create": "off", "idle": "0.25", "type": "classic", "url": "x"})
    assert read.integer("workers", 8, minimum=1) == 3
    assert read.flag("create", True) is False
    assert read.seconds("idle", 1.0, positive=True) == 0.25
    assert read.choice("type", "quorum", ("quorum", "classic")) == "classic"
    assert read.text("url", "") == "x"


@pytest.mark.parametrize("word, value", [
    ("true", True), ("1", True), ("YES", True), (" on ", True), ("false", False), ("0", False), ("No", False),
    ("off", False),
])
def test_flags_take_the_usual_words(word: str, value: bool) -> None:
    """Booleans are true/false, 1/0, yes/no or on/off, in any case and with spaces around."""
    assert SettingsReader("demo", {"f": word}).flag("f", not value) is value


@pytest.mark.parametrize("settings, read, message", [
    ({"workers": "many"}, lambda r: r.integer("workers", 8), "demo workers must be an integer, got 'many'"),
    ({"workers": "0"}, lambda r: r.integer("workers", 8, minimum=1),
     "demo workers must be an integer of at least 1, got '0'"),
    ({"create": "maybe"}, lambda r: r.flag("create", True),
     "demo create must be true or false (or 1/0, yes/no, on/off), got 'maybe'"),
    ({"idle": "soon"}, lambda r: r.seconds("idle", 1.0), "demo idle must be a number of seconds, got 'soon'"),
    ({"idle": "-1"}, lambda r: r.seconds("idle", 1.0), "demo idle must be a number of seconds, got '-1'"),
    ({"idle": "inf"}, lambda r: r.seconds("idle", 1.0), "demo idle must be a number of seconds, got 'inf'"),
    ({"idle": "0"}, lambda r: r.seconds("idle", 1.0, positive=True),
     "demo idle must be a positive number of seconds, got '0'"),
    ({"type": "stream"}, lambda r: r.choice("type", "quorum", ("quorum", "classic")),
     "demo type must be one of ['quorum', 'classic'], got 'stream'"),
])
def test_a_bad_value_is_a_boot_error_naming_key_and_value(settings: dict[str, str], read: object,
                                                          message: str) -> None:
    """Each refusal says ``<owner> <key> must be ..., got <value>``."""
    with pytest.raises(BootError) as error:
        read(SettingsReader("demo", settings))  # type: ignore[operator]
    assert str(error.value) == message


def test_unknown_keys_are_refused_with_the_known_ones() -> None:
    """A key the plugin does not know (a typo) is a BootError listing the known keys."""
    with pytest.raises(BootError) as error:
        SettingsReader("demo", {"prefech": "5", "url": "u"}).check_known({"url", "prefetch"})
    assert str(error.value) == "unknown demo setting(s) ['prefech']; known: ['prefetch', 'url']"
    SettingsReader("demo", {"url": "u"}).check_known({"url", "prefetch"})


def test_from_env_reads_variables_and_names_them() -> None:
    """``from_env`` reads ``<PREFIX><KEY>`` variables as lower-case keys; an error names the variable."""
    read = SettingsReader.from_env("SPINE_POSTGRES_", {"SPINE_POSTGRES_POOL_SIZE": "4", "SPINE_POSTGRES_INIT": "x",
                                                       "SPINE_BROKER": "memory"})
    assert read.values == {"pool_size": "4", "init": "x"}
    assert read.integer("pool_size", 10, minimum=1) == 4
    with pytest.raises(BootError, match=r"^SPINE_POSTGRES_INIT must be true or false .*, got 'x'$"):
        read.flag("init", False)
