"""Every command's --help reads cleanly and shows an example (typer's rendering is pinned)."""
from __future__ import annotations

import re

import pytest
import typer.main
from typer.testing import CliRunner

from kglink.cli import app

runner = CliRunner()


def _command_paths(group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    out = []
    for name, cmd in sorted(group.commands.items()):
        out.append(prefix + (name,))
        if hasattr(cmd, "commands"):
            out += _command_paths(cmd, prefix + (name,))
    return out


COMMANDS = [" ".join(p) for p in _command_paths(typer.main.get_command(app))]

# What a typer outside the pinned range prints instead of plain click help.
ARTEFACTS = [
    (re.compile(r"^Usage:.*\{\w+\}", re.M), "an argument in braces on the Usage line"),
    (re.compile(r"<(?:list\[\w+\]|str|int|path|float|int range|bool)>"), "a type in angle brackets"),
    (re.compile(r"\\\["), "an escaped bracket"),
]


def test_every_command_is_checked() -> None:
    assert {"load", "link", "review", "risks", "profile", "nightly", "cypher", "demo",
            "export entities"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_renders_without_artefacts_and_has_an_example(command: str) -> None:
    res = runner.invoke(app, [*command.split(), "--help"], prog_name="kglink", terminal_width=100)
    assert res.exit_code == 0, res.output
    text = res.output
    assert text.startswith(f"Usage: kglink {command} ")
    for pattern, what in ARTEFACTS:
        found = pattern.search(text)
        assert not found, f"kglink {command} --help shows {what}: {found.group(0)!r}"
    assert "Example" in text, f"kglink {command} --help has no example"


def test_top_level_help_lists_the_commands() -> None:
    res = runner.invoke(app, ["--help"], prog_name="kglink", terminal_width=100)
    assert res.exit_code == 0
    assert all(c in res.output for c in ("load", "profile", "nightly"))
    assert not ARTEFACTS[1][0].search(res.output)
