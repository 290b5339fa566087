"""The README's data contract is generated from the code, so they cannot drift."""

from __future__ import annotations

import re

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


def test_every_file_the_readme_links_exists() -> None:
    text = (REPO / "README.md").read_text()
    linked = set(re.findall(r"\]\(((?:docs|notebooks|parameters|benchmarks)/[^)#\s]+)\)", text))
    assert any(path.endswith(".png") for path in linked)  # the pictures are among them
    missing = sorted(path for path in linked if not (REPO / path).exists())
    assert not missing, f"README links to missing files: {missing}"


def test_every_command_is_in_the_readme_table() -> None:
    from plan_lib.cli import main

    text = (REPO / "README.md").read_text()
    absent = sorted(name for name in main.commands if f"`tqp {name}" not in text)
    assert not absent, f"commands missing from the README table: {absent}"
