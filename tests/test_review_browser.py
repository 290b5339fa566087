"""Browser test: the review page served by Voila, driven in headless Chromium through playwright.

A manager moves an account and adjusts a quota through the page, reloads and
sees both persisted; another manager's link does not show them; a tampered
link gets the refusal page. Needs Debian's chromium (``.ci/services.sh``);
skipped locally without it, a failure in CI.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import test_review_fixtures as fx
from test_review_fixtures import seed_store, session_for

from plan_lib.review import views
from plan_lib.review.admin import export_overrides
from plan_lib.review.serve import start_voila
from plan_lib.review.store import open_store
from plan_lib.review.tokens import invite_token, invite_url

run_dir = fx.run_dir  # fixtures from test_review_fixtures, used by name below


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 45_000

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/services.sh must install Debian's chromium before the tests")
    pytest.skip(f"{CHROMIUM} is not installed (run .ci/services.sh); CI runs this test")


def _open(context, url: str, selector: str):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector(selector)
    return page


def _tab(page, title: str) -> None:
    page.locator(".lm-TabBar-tab", has_text=title).click()


def test_a_manager_edits_through_the_page_and_the_edits_persist_in_scope(tmp_path: Path, run_dir, monkeypatch) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setenv("TQP_SECRET", "browser-test-secret-" + "x" * 24)  # Voila's kernels inherit it
    url = f"sqlite:///{tmp_path / 'review.sqlite'}"
    store = open_store(url)
    version = seed_store(store, run_dir)
    m1_link = invite_url("", invite_token(store, "M1"))
    m2_link = invite_url("", invite_token(store, "M2"))
    accounts = session_for(store, version, "M1").accounts()
    account = accounts[accounts["rep_id"] == "R1"].sort_values("potential", ascending=False).iloc[0]
    server = start_voila(url, run_dir, log=tmp_path / "voila.log")
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = _open(context, server.base_url + m1_link, ".tqp-dashboard")
                _tab(page, "Accounts")
                page.locator(".tqp-accounts-select select").select_option(value=views.account_label(account))
                page.locator(".tqp-move-target select").select_option(value="R2 Rex Two")
                page.locator(".tqp-reason input").fill("R2 knows their CFO")
                page.locator("button.tqp-move").click()
                expect(page.locator(".tqp-status")).to_contain_text(f"saved: moved {account['account_id']} from R1 to R2")

                _tab(page, "Quotas")
                page.locator(".tqp-quota-rep select").select_option(value="R3 Ria Three")
                page.locator(".tqp-quota-value input").fill("150000")
                expect(page.locator(".tqp-quota-preview")).to_contain_text("150,000")  # live effect before saving
                page.locator(".tqp-quota-reason input").fill("territory grew")
                page.locator("button.tqp-quota-apply").click()
                expect(page.locator(".tqp-status")).to_contain_text("saved: quota of R3")

                page.reload()
                page.wait_for_selector(".tqp-dashboard")
                changes = page.locator(".tqp-changes")
                expect(changes).to_contain_text(f"move {account['account_id']}: R1 -> R2")
                expect(changes).to_contain_text("quota R3")
                expect(changes).to_contain_text("150,000")
                expect(changes).to_contain_text("Mia Manager")
                expect(page.locator(".tqp-quotas")).to_contain_text("150,000")

                other = _open(context, server.base_url + m2_link, ".tqp-dashboard")
                expect(other.locator(".tqp-user")).to_contain_text("Max Manager")
                expect(other.locator(".tqp-changes")).not_to_contain_text(account["account_id"])
                expect(other.locator(".tqp-changes")).not_to_contain_text("R3")
                assert account["account_id"] not in (other.locator(".tqp-accounts-select").text_content() or "")
                assert "R3" not in (other.locator(".tqp-quotas").text_content() or "")

                token = m1_link.split("=", 1)[1]
                tampered = m1_link.replace(token, token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
                refused = _open(context, server.base_url + tampered, ".tqp-refusal")
                expect(refused.locator(".tqp-refusal")).to_contain_text("not valid")
                assert refused.locator(".tqp-dashboard").count() == 0
            finally:
                context.close()
    finally:
        server.stop()
        store.dispose()
    with pytest.raises(ProcessLookupError):  # Voila and every kernel it started are gone
        os.killpg(server.process.pid, 0)
    saved = export_overrides(open_store(url), version).set_index("kind")
    assert saved.at["reassign", "account_id"] == account["account_id"] and saved.at["reassign", "rep_id"] == "R2"
    assert saved.at["quota", "quota"] == 150_000.0 and saved.at["quota", "author"] == "Mia Manager (M1)"
