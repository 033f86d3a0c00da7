"""README's two commands stay true: CI runs exactly the test command README gives."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _code_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.startswith("    ") and ln.strip()]


def test_ci_runs_the_readme_test_command() -> None:
    readme_cmds = _code_lines((ROOT / "README.md").read_text())
    assert len(readme_cmds) >= 2
    test_cmd = readme_cmds[1]
    ci_lines = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert ci_lines[-1] == test_cmd or test_cmd in ci_lines


def test_readme_names_the_system_prerequisites_before_its_first_rule() -> None:
    top = (ROOT / "README.md").read_text().split("\n---\n")[0]
    for need in ("Python 3.11", "Java 17", "Maven", "Chromium"):
        assert need in top, f"README's top section does not name {need}"


def test_readme_and_docs_never_point_outside_the_repository() -> None:
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "../shared" not in doc.read_text(), f"{doc.name} links outside the repository"
