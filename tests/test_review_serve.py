"""`tqp serve` pieces: the Voila command line, the run's plan version, one link per manager."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
import test_review_fixtures as fx

from plan_lib.review.admin import set_version_state
from plan_lib.review.params import ReviewParams
from plan_lib.review.serve import (
    ENV_RUN,
    ENV_STORE,
    manager_links,
    prepare_review,
    voila_command,
    voila_environment,
)
from plan_lib.review.store import open_store
from plan_lib.review.tokens import token_from_query_string, verify_invite

run_dir = fx.run_dir  # fixtures from test_review_fixtures, used by name below


def test_voila_serves_localhost_only_and_culls_idle_kernels() -> None:
    command = voila_command(Path("notebooks/04_review.ipynb"), 9999, ReviewParams(cull_idle_timeout_s=600, cull_interval_s=30))
    assert "--Voila.ip=127.0.0.1" in command and "--port=9999" in command and "--no-browser" in command
    assert "--MappingKernelManager.cull_idle_timeout=600" in command
    assert "--MappingKernelManager.cull_interval=30" in command
    assert "--VoilaConfiguration.show_tracebacks=False" in command
    env = voila_environment("sqlite:///x.sqlite", "some/run", base={})
    assert env[ENV_STORE] == "sqlite:///x.sqlite" and Path(env[ENV_RUN]).is_absolute()


def test_prepare_review_and_one_link_per_manager(tmp_path: Path, run_dir, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TQP_SECRET", "z" * 40)
    store = open_store(f"sqlite:///{tmp_path / 'review.sqlite'}")
    try:
        version = prepare_review(store, run_dir)
        assert prepare_review(store, run_dir) == version  # idempotent: the same version is reused
        links = manager_links(store, version, "http://localhost:8866", days=7)
        assert set(links) == {"VP1", "D1", "M1", "M2", "M3"}  # managers and up, not reps
        for user_id, link in links.items():
            assert urlsplit(link).netloc == "localhost:8866"
            assert verify_invite(store, token_from_query_string(urlsplit(link).query)) == user_id
        set_version_state(store, version, "pilot", pilot=["M1", "M3"], reason="pilot first")
        assert set(manager_links(store, version, "http://localhost:8866", days=7)) == {"M1", "M3"}
    finally:
        store.dispose()
