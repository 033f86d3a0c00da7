"""Findings to JSON and back in one call (queries.findings.findings_json, the workspace's
kept findings in queries.service): the same text and the same findings as one dict per
finding through the json module gave. Every person here is synthetic."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kglink.queries import service
from kglink.queries.findings import (
    Evidence,
    Finding,
    FindingAddress,
    FindingEvent,
    FindingPerson,
    SourceRef,
    findings_json,
)
from kglink.workspace import open_workspace

_text = st.text(max_size=12)
_refs = st.lists(st.builds(SourceRef, agency=_text, record_id=_text), max_size=2)
_finding = st.builds(
    Finding, id=_text, query=_text, severity=_text, summary=_text,
    people=st.lists(st.builds(FindingPerson, entity_id=_text, name=_text, role=_text, records=_refs), max_size=2),
    events=st.lists(st.builds(FindingEvent, agency=_text, record_id=_text, type=_text, occurred_at=_text), max_size=2),
    addresses=st.lists(st.builds(FindingAddress, entity_id=_text, label=_text, role=_text, records=_refs), max_size=2),
    evidence=st.lists(st.builds(Evidence, fact=_text, agency=_text, record_id=_text), max_size=2),
    rank=st.none() | st.integers(), role=st.none() | _text, unconfirmed_link=st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(_finding, max_size=3))
def test_findings_json_is_the_text_json_dumps_wrote(found: list[Finding]) -> None:
    """Any text (quotes, backslashes, control characters, accents, emoji) written as the
    json module wrote findings.json, and read back as the same findings."""
    text = findings_json(found)
    assert text == json.dumps([f.model_dump() for f in found], indent=2, ensure_ascii=False)
    assert [Finding.model_validate(f) for f in json.loads(text)] == found


def test_the_findings_kept_in_the_workspace_are_read_back_the_same(
        linked: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(linked)
    found = service.findings_for(ws)
    assert found

    def no_queries(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the kept findings were not used")

    with monkeypatch.context() as m:
        m.setattr(service, "run_on_view", no_queries)
        assert service.all_findings(ws) == found
    # A kept value this kglink cannot read is found again, not an error.
    with ws.transaction() as c:
        ws.set_meta(c, service._CACHE_KEY, '{"tag": "cut off')
    assert service.all_findings(ws) == found
