"""The README's data contract is generated from the code, so they cannot drift."""

from __future__ import annotations

from conftest import REPO
from plan_lib.contract import contract_markdown


def test_readme_contract_matches_the_code() -> None:
    text = (REPO / "README.md").read_text()
    start, end = text.index("<!-- contract:start -->"), text.index("<!-- contract:end -->")
    embedded = text[start + len("<!-- contract:start -->"):end].strip()
    assert embedded == contract_markdown().strip(), "README contract is stale: paste the output of `tqp contract`"


def test_readme_starts_with_the_two_commands() -> None:
    head = (REPO / "README.md").read_text()[:1500]
    assert "make demo" in head and "make test" in head
