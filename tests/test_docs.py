"""The documentation stays true (in the style of sqlite-utils' test_docs.py): the Python
API page runs as written, every command is documented in README, and every command's
--help has an example."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from kglink.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: tuple[str, ...] = ()) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            out += _commands(cmd, prefix + (name,))
        else:
            out.append(" ".join(prefix + (name,)))
    return out


COMMANDS = _commands(typer.main.get_command(app))
# The README's headings name the commands they document: `### kglink status / kglink rejects`.
DOCUMENTED = {m.group(1) for line in README.splitlines() if line.startswith("### ")
              for m in re.finditer(r"kglink ((?:[a-z]+)(?: [a-z]+)?)", line)}


def test_there_are_commands() -> None:
    assert {"load", "link", "risks", "profile", "export entities"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_in_the_readme(command: str) -> None:
    assert command in DOCUMENTED, f"README.md has no `### kglink {command}` heading"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_an_example_in_its_help(command: str) -> None:
    cmd = typer.main.get_command(app)
    for part in command.split(" "):
        cmd = cmd.commands[part]  # type: ignore[attr-defined]
    assert "Example" in (cmd.help or ""), f"kglink {command} --help has no example"


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def test_the_python_api_page_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Every block of docs/python-api.md, in order, in one namespace, in an empty folder."""
    blocks = _python_blocks((ROOT / "docs" / "python-api.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KGLINK_WORKSPACE", raising=False)
    namespace: dict[str, object] = {}
    for n, code in enumerate(blocks, 1):
        exec(compile(code, f"docs/python-api.md block {n}", "exec"), namespace)  # noqa: S102
    out = capsys.readouterr().out
    assert "refused: a research pack needs" in out and "findings" in out
    assert sorted(p.suffix for p in (tmp_path / "packs").iterdir()) == [".html", ".json", ".md"]


def test_the_readme_points_to_the_python_api() -> None:
    assert "## Use from Python" in README and "docs/python-api.md" in README
