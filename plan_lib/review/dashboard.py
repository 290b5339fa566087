"""The manager review dashboard (ipywidgets), served by Voila from ``notebooks/04_review.ipynb``.

``build_review_dashboard`` verifies who is asking, opens their
``ReviewSession`` and returns one widget. ``ReviewDashboard`` holds the
widgets; its actions (``refresh``, ``select_accounts``, ``move_selected``,
``lock_selected``, ``preview_quota``, ``apply_quota``, ``add_comment``,
``open_map``) are plain methods that tests call without a browser, and the
``on_*`` handlers only copy widget values into them. All rules live in the
session: the dashboard can show a refusal but never decides one.

The Map tab (``map_panel.ReviewMapPanel``) is drawn when first opened. A
selection made on it becomes the account table's selection, so the table's
move and lock controls act on it through the same session calls.
"""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
import pandas as pd

from plan_lib.errors import TqpError
from plan_lib.review import views
from plan_lib.review.access import ReviewSession
from plan_lib.review.admin import find_version
from plan_lib.review.concurrency import format_time
from plan_lib.review.errors import ReviewError, TokenError
from plan_lib.review.indicators import QuotaPreview, quota_preview
from plan_lib.review.map_panel import ReviewMapPanel
from plan_lib.review.params import ReviewParams
from plan_lib.review.store import Store, open_store
from plan_lib.review.tokens import verify_invite

if TYPE_CHECKING:
    from plan_lib.maps.params import MapParams

ALL = ""
REFUSAL_TITLES = {
    "missing": "You need your personal link",
    "tampered": "This link is not valid",
    "expired": "This link has expired",
    "revoked": "This link was withdrawn",
    "denied": "This plan is not open to you",
    "unavailable": "The review is not available",
}


@dataclass
class ActionReport:
    """Outcome of a dashboard action: what was saved and what was refused, with reasons."""

    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    def html(self) -> str:
        parts = [f'<div class="tqp-done" style="color:#176617">saved: {html.escape(s)}</div>' for s in self.done]
        parts += [f'<div class="tqp-refused" style="color:#a11">refused: {html.escape(s)}</div>' for s in self.refused]
        return "".join(parts) or "<div>nothing to do</div>"


def refusal_page(reason: str, message: str) -> widgets.HTML:
    """A page that says why the dashboard will not open and what to do."""
    title = REFUSAL_TITLES.get(reason, "Access refused")
    page = widgets.HTML(
        f'<div style="max-width:640px;margin:48px auto;font-family:sans-serif">'
        f"<h2>{html.escape(title)}</h2><p>{html.escape(message)}</p>"
        f'<p style="color:#666">reason: <code class="tqp-refusal-reason">{html.escape(reason)}</code></p></div>'
    )
    page.add_class("tqp-refusal")
    return page


def _classed(widget: widgets.Widget, css: str) -> Any:
    widget.add_class(css)
    return widget


class ReviewDashboard:
    """Widgets and actions of one user's review page."""

    def __init__(self, session: ReviewSession, params: ReviewParams | None = None,
                 map_params: MapParams | None = None):
        self.session = session
        self.params = params or ReviewParams()
        self.map_params = map_params
        self.pinned: tuple[str, ...] = ()  # selected on the map: listed in the table even when filtered out
        self._filling_choices = False
        self.accounts = pd.DataFrame()
        self.books = pd.DataFrame()
        self.quotas = pd.DataFrame()
        self.account_etags: dict[str, int] = {}
        self.quota_etags: dict[str, int] = {}
        self.seen_audit_ids: set[int] = set()
        self._build()
        self.refresh(initial=True)

    # -- layout ---------------------------------------------------------------
    def _build(self) -> None:
        s, user, version = self.session, self.session.user, self.session.version
        self.title = widgets.HTML()
        self.refresh_button = _classed(widgets.Button(description="Refresh", icon="refresh", tooltip="show others' edits"), "tqp-refresh")
        self.status = _classed(widgets.HTML(), "tqp-status")
        self.progress = _classed(widgets.IntProgress(min=0, max=1, value=0, description="working"), "tqp-progress")
        self.progress.layout.visibility = "hidden"

        self.books_html = _classed(widgets.HTML(), "tqp-books-box")
        self.segments_html = widgets.HTML()

        self.search = _classed(widgets.Text(placeholder="search id, name, industry, state", description="Search"), "tqp-search")
        self.filter_rep = _classed(widgets.Dropdown(description="Rep"), "tqp-filter-rep")
        self.filter_segment = _classed(widgets.Dropdown(description="Segment"), "tqp-filter-segment")
        self.filter_customers = _classed(widgets.Checkbox(description="customers only", indent=False), "tqp-filter-customers")
        self.filter_changed = _classed(widgets.Checkbox(description="moved or locked only", indent=False), "tqp-filter-changed")
        self.account_count = widgets.HTML()
        self.account_select = _classed(
            widgets.SelectMultiple(rows=12, description="Accounts", layout=widgets.Layout(width="95%")), "tqp-accounts-select"
        )
        self.move_target = _classed(widgets.Dropdown(description="Move to"), "tqp-move-target")
        self.reason = _classed(widgets.Text(placeholder="why (required)", description="Reason"), "tqp-reason")
        self.move_button = _classed(widgets.Button(description="Move selected", button_style="primary"), "tqp-move")
        self.lock_button = _classed(widgets.Button(description="Lock selected"), "tqp-lock")
        self.unlock_button = _classed(widgets.Button(description="Unlock selected"), "tqp-unlock")
        self.accounts_html = _classed(widgets.HTML(), "tqp-accounts-box")

        self.quota_rep = _classed(widgets.Dropdown(description="Rep"), "tqp-quota-rep")
        self.quota_value = _classed(widgets.FloatText(description="New quota", continuous_update=True), "tqp-quota-value")
        self.quota_reason = _classed(widgets.Text(placeholder="why (required)", description="Reason"), "tqp-quota-reason")
        self.quota_button = _classed(widgets.Button(description="Apply quota", button_style="primary"), "tqp-quota-apply")
        self.quota_preview_html = _classed(widgets.HTML(), "tqp-quota-preview")
        self.quotas_html = _classed(widgets.HTML(), "tqp-quotas-box")

        self.comment_type = _classed(widgets.ToggleButtons(options=["account", "rep"], description="On"), "tqp-comment-type")
        self.comment_subject = _classed(widgets.Text(description="Id", placeholder="account or rep id"), "tqp-comment-subject")
        self.comment_text = _classed(widgets.Textarea(placeholder="your comment", layout=widgets.Layout(width="95%")), "tqp-comment-text")
        self.comment_button = _classed(widgets.Button(description="Add comment"), "tqp-comment-add")
        self.comments_html = _classed(widgets.HTML(), "tqp-comments-box")

        self.changes_html = _classed(widgets.HTML(), "tqp-changes-box")
        self.history_html = _classed(widgets.HTML(), "tqp-history-box")
        self.map_panel = ReviewMapPanel(s, self.select_accounts, self.map_params)

        self.refresh_button.on_click(self.on_refresh)
        self.move_button.on_click(self.on_move)
        self.lock_button.on_click(self.on_lock)
        self.unlock_button.on_click(self.on_unlock)
        self.quota_button.on_click(self.on_apply_quota)
        self.comment_button.on_click(self.on_comment)
        for control in (self.search, self.filter_rep, self.filter_segment, self.filter_customers, self.filter_changed):
            control.observe(self.on_filter, names="value")
        for control in (self.quota_rep, self.quota_value):
            control.observe(self.on_quota_input, names="value")
        self.account_select.observe(self.on_select, names="value")

        tabs = widgets.Tab(
            children=[
                widgets.VBox([self.books_html, widgets.HTML("<h4>Segments (company-wide)</h4>"), self.segments_html]),
                widgets.VBox([
                    widgets.HBox([self.search, self.filter_rep, self.filter_segment]),
                    widgets.HBox([self.filter_customers, self.filter_changed, self.account_count]),
                    self.account_select,
                    widgets.HBox([self.move_target, self.reason]),
                    widgets.HBox([self.move_button, self.lock_button, self.unlock_button]),
                    self.accounts_html,
                ]),
                self.map_panel.widget,
                widgets.VBox([widgets.HBox([self.quota_rep, self.quota_value]), self.quota_reason, self.quota_button,
                              self.quota_preview_html, self.quotas_html]),
                widgets.VBox([widgets.HBox([self.comment_type, self.comment_subject]), self.comment_text,
                              self.comment_button, self.comments_html]),
                widgets.VBox([widgets.HTML("<h4>Changes since the draft</h4>"), self.changes_html,
                              widgets.HTML("<h4>Activity</h4>"), self.history_html]),
            ],
            titles=["Books", "Accounts", "Map", "Quotas", "Comments", "Changes"],
        )
        self.tabs = tabs
        tabs.observe(self.on_tab, names="selected_index")
        self.map_panel.goto_button.on_click(lambda _button: setattr(tabs, "selected_index", tabs.titles.index("Accounts")))
        self.widget = _classed(
            widgets.VBox([self.title, widgets.HBox([self.refresh_button, self.progress]), self.status, tabs]), "tqp-dashboard"
        )
        editable = s.can_edit()
        for button in (self.move_button, self.lock_button, self.unlock_button, self.quota_button):
            button.disabled = not editable
        self.title.value = views.TABLE_CSS + (
            f"<h3>Review: {html.escape(version.name)} <small>({html.escape(version.state)})</small></h3>"
            f'<div class="tqp-user">{html.escape(user.label)}, {html.escape(user.role)}'
            f"{'' if editable else ' (read only)'}</div>"
        )

    # -- actions (plain functions) --------------------------------------------
    def refresh(self, initial: bool = False) -> str:
        """Reload everything from the store; report others' edits since the last refresh."""
        s = self.session
        s.refresh_version()
        self.accounts = s.accounts()
        self.quotas = s.quotas()
        self.books = s.books(self.params.band)
        self.account_etags = dict(zip(self.accounts["account_id"], self.accounts["etag"].astype(int), strict=True))
        self.quota_etags = dict(zip(self.quotas["rep_id"], self.quotas["etag"].astype(int), strict=True))
        history = s.history()
        # ids come from a sequence but commit out of order: compare sets, not a high-water mark
        fresh = history[~history["audit_id"].isin(self.seen_audit_ids)]
        others = fresh[fresh["actor_id"] != s.user.user_id] if not initial else fresh.iloc[0:0]
        self.seen_audit_ids.update(history["audit_id"].tolist())
        self._fill_choices()
        self._render_tables(history)
        self.map_panel.update(self.accounts, self.books, self.account_select.value)  # redraws only if opened
        if initial:
            message = f"{len(self.accounts)} accounts in {len(self.books)} books"
        elif others.empty:
            message = "up to date: no edits by others since your last refresh"
        else:
            lines = "; ".join(f"{a}: {m}" for a, m in zip(others["actor"], others["summary"], strict=True))
            message = f"{len(others)} edit(s) by others since your last refresh: {lines}"
        self.status.value = f"<div>{html.escape(message)}</div>"
        return message

    def select_accounts(self, account_ids: Iterable[str]) -> list[str]:
        """Make ``account_ids`` the account table's selection: what a selection on the map calls.

        Only accounts this dashboard holds (the session's scope) are selected;
        any other id is refused on the page, never passed on. The selection is
        listed in the table even where its filters would hide it, so the move
        and lock controls act on exactly what was selected.
        """
        ids = list(dict.fromkeys(str(a) for a in account_ids))
        known = set(self.accounts["account_id"])
        chosen = tuple(a for a in ids if a in known)
        refused = [a for a in ids if a not in known]
        self.pinned = chosen
        self._fill_accounts()
        self.account_select.value = chosen
        if chosen:
            message = (f"{len(chosen)} account(s) selected on the map: {', '.join(chosen[:8])}"
                       f"{' ...' if len(chosen) > 8 else ''}; move or lock them on the Accounts tab")
        else:
            message = "no account selected"
        parts = [f'<div class="tqp-selection">{html.escape(message)}</div>']
        if refused:
            parts.append(f'<div class="tqp-refused" style="color:#a11">refused: {html.escape(", ".join(refused))}: '
                         "not among your team's accounts, left out of the selection</div>")
        self.status.value = "".join(parts)
        return list(chosen)

    def open_map(self) -> None:
        """Draw the map (what opening the Map tab does; later calls do nothing)."""
        self.map_panel.open()

    def move_selected(self, account_ids: Iterable[str], to_rep: str, reason: str,
                      progress: Callable[[int, int], None] | None = None) -> ActionReport:
        """Move accounts one by one, each checked against the version the user saw."""
        return self._per_account(account_ids, lambda a: self.session.reassign(a, to_rep, reason, self.account_etags.get(a, 0)), progress)

    def lock_selected(self, account_ids: Iterable[str], reason: str, unlock: bool = False,
                      progress: Callable[[int, int], None] | None = None) -> ActionReport:
        action = self.session.unlock if unlock else self.session.lock
        return self._per_account(account_ids, lambda a: action(a, reason, self.account_etags.get(a, 0)), progress)

    def _per_account(self, account_ids: Iterable[str], edit: Callable[[str], Any],
                     progress: Callable[[int, int], None] | None) -> ActionReport:
        ids = list(account_ids)
        report = ActionReport()
        if not ids:
            report.refused.append("select at least one account first")
            return report
        for index, account_id in enumerate(ids, start=1):
            try:
                result = edit(account_id)
                self.account_etags[account_id] = result.etag
                report.done.append(result.summary)
            except TqpError as error:
                report.refused.append(f"{account_id}: {error}")
            if progress:
                progress(index, len(ids))
        self._refresh_after_edit()
        return report

    def preview_quota(self, rep_id: str, quota: float) -> QuotaPreview | None:
        """Live effect of a quota value on balance and fairness indicators (nothing is saved)."""
        if not rep_id or rep_id not in set(self.books["rep_id"]):
            return None
        team = set(self.session.scope_reps)
        return quota_preview(self.books, rep_id, float(quota), team, self.params.quota_ratio_band)

    def apply_quota(self, rep_id: str, quota: float, reason: str) -> ActionReport:
        report = ActionReport()
        try:
            result = self.session.set_quota(rep_id, quota, reason, self.quota_etags.get(rep_id, 0))
            self.quota_etags[rep_id] = result.etag
            report.done.append(result.summary)
        except TqpError as error:
            report.refused.append(str(error))
        self._refresh_after_edit()
        return report

    def add_comment(self, subject_type: str, subject_id: str, text: str) -> ActionReport:
        report = ActionReport()
        try:
            self.session.comment(subject_type, subject_id.strip(), text)
            report.done.append(f"comment on {subject_type} {subject_id.strip()}")
        except TqpError as error:
            report.refused.append(str(error))
        self._refresh_after_edit()
        return report

    def visible_accounts(self) -> pd.DataFrame:
        return views.filter_accounts(
            self.accounts, search=self.search.value, rep=self.filter_rep.value or "", segment=self.filter_segment.value or "",
            customers_only=self.filter_customers.value, changed_only=self.filter_changed.value,
        )

    # -- widget handlers (copy widget values into the actions) -------------------
    def _show(self, report: ActionReport) -> None:
        self.status.value = report.html()

    def _progress(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), done

    def _busy(self, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), 0
        self.progress.layout.visibility = "visible" if total > 1 else "hidden"

    def on_refresh(self, _button: Any = None) -> None:
        try:
            self.refresh()
        except TqpError as error:  # e.g. the version was taken back to draft meanwhile
            self.status.value = f'<div class="tqp-refused" style="color:#a11">{html.escape(str(error))}</div>'

    def _refresh_after_edit(self) -> None:
        # the edit's own outcome is what the user must see; the next refresh explains the rest
        with contextlib.suppress(TqpError):
            self.refresh()

    def on_filter(self, _change: Any = None) -> None:
        if not self._filling_choices:  # the user filters the table: a map selection stops overriding it
            self.pinned = ()
        self._fill_accounts()

    def on_select(self, _change: Any = None) -> None:
        selected = list(self.account_select.value)
        if selected and self.comment_type.value == "account":
            self.comment_subject.value = selected[0]
        self.map_panel.highlight(selected)

    def on_tab(self, change: dict[str, Any]) -> None:
        if self.tabs.titles[change["new"]] == "Map":
            self.open_map()

    def on_move(self, _button: Any = None) -> None:
        selected = list(self.account_select.value)
        self._busy(len(selected))
        try:
            self._show(self.move_selected(selected, self.move_target.value or "", self.reason.value, self._progress))
        finally:
            self.progress.layout.visibility = "hidden"

    def on_lock(self, _button: Any = None, unlock: bool = False) -> None:
        selected = list(self.account_select.value)
        self._busy(len(selected))
        try:
            self._show(self.lock_selected(selected, self.reason.value, unlock=unlock, progress=self._progress))
        finally:
            self.progress.layout.visibility = "hidden"

    def on_unlock(self, _button: Any = None) -> None:
        self.on_lock(unlock=True)

    def on_quota_input(self, _change: Any = None) -> None:
        preview = self.preview_quota(self.quota_rep.value or "", self.quota_value.value or 0.0)
        if preview is None:
            self.quota_preview_html.value = ""
            return
        color = "#a11" if preview.leaves_band else "#333"
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in preview.lines())
        self.quota_preview_html.value = f'<ul style="color:{color}">{lines}</ul>'

    def on_apply_quota(self, _button: Any = None) -> None:
        self._show(self.apply_quota(self.quota_rep.value or "", self.quota_value.value, self.quota_reason.value))

    def on_comment(self, _button: Any = None) -> None:
        report = self.add_comment(self.comment_type.value, self.comment_subject.value, self.comment_text.value)
        if report.ok:
            self.comment_text.value = ""
        self._show(report)

    # -- rendering ---------------------------------------------------------------
    def _fill_choices(self) -> None:
        self._filling_choices = True
        try:
            self._fill_choice_options()
        finally:
            self._filling_choices = False
        self._fill_accounts()

    def _fill_choice_options(self) -> None:
        reps = sorted(self.books["rep_id"])
        names = dict(zip(self.books["rep_id"], self.books["name"].fillna(""), strict=True))
        label = lambda r: f"{r} {names.get(r, '')}".strip()  # noqa: E731
        keep = self.filter_rep.value
        self.filter_rep.options = [("all reps", ALL)] + [(label(r), r) for r in reps]
        self.filter_rep.value = keep if keep in reps else ALL
        segments = sorted(str(s) for s in self.accounts["segment"].dropna().unique())
        keep = self.filter_segment.value
        self.filter_segment.options = [("all segments", ALL)] + [(s, s) for s in segments]
        self.filter_segment.value = keep if keep in segments else ALL
        targets = self.session.assignable_reps()
        keep = self.move_target.value
        self.move_target.options = [(label(r), r) for r in targets]
        if keep in targets:
            self.move_target.value = keep
        quota_reps = sorted(set(self.quotas["rep_id"]) & set(reps))
        keep = self.quota_rep.value
        self.quota_rep.options = [(label(r), r) for r in quota_reps]
        if keep in quota_reps:
            self.quota_rep.value = keep

    def _fill_accounts(self) -> None:
        visible = self.visible_accounts()
        shown = visible.head(self.params.max_rows)
        ids = self.accounts["account_id"]
        pinned = self.accounts[ids.isin(self.pinned) & ~ids.isin(shown["account_id"])]
        listed = pd.concat([pinned, shown]) if len(pinned) else shown
        keep = set(self.account_select.value)
        self.account_select.options = [(views.account_label(row), row["account_id"]) for _, row in listed.iterrows()]
        self.account_select.value = tuple(a for a in listed["account_id"] if a in keep)
        more = f" (first {len(shown)} shown: search to narrow)" if len(visible) > len(shown) else ""
        extra = f" + {len(pinned)} selected on the map" if len(pinned) else ""
        self.account_count.value = f"{len(visible)} of {len(self.accounts)} accounts{more}{extra}"
        self.accounts_html.value = views.html_table(views.accounts_display(listed), "tqp-accounts", "no account matches")

    def _render_tables(self, history: pd.DataFrame) -> None:
        self.books_html.value = views.html_table(views.books_display(self.books), "tqp-books", "no books in your scope")
        self.segments_html.value = views.html_table(views.segments_display(self.session.segments(self.params.band)), "tqp-segments")
        self.quotas_html.value = views.html_table(views.quotas_display(self.quotas), "tqp-quotas", "no quotas in your scope")
        self.changes_html.value = views.html_table(views.changes_display(self.session.overrides()), "tqp-changes", "no changes yet")
        self.history_html.value = views.html_table(views.history_display(history), "tqp-history", "no activity yet")
        comments = self.session.comments()
        self.comments_html.value = views.html_table(
            comments.assign(created_at=comments["created_at"].map(format_time))[["subject_type", "subject_id", "author", "created_at", "text"]],
            "tqp-comments", "no comments yet",
        )
        self.on_quota_input()


def _identify(store: Store, token_or_user: Any) -> str:
    """A token string is verified; an object with ``user_id`` is a trusted local identity (e.g. RevOps in Jupyter)."""
    if token_or_user is None or isinstance(token_or_user, str):
        return verify_invite(store, token_or_user)
    user_id = getattr(token_or_user, "user_id", None)
    if not user_id:
        raise TypeError("token_or_user must be an invite token (str) or an object with a user_id")
    return str(user_id)


def _run_settings(run_dir: str | Path, params: ReviewParams | None, map_params: MapParams | None
                  ) -> tuple[ReviewParams | None, MapParams | None]:
    """The review and maps settings the draft run was made with, where not given."""
    path = Path(run_dir) / "parameters.yaml"
    if (params is not None and map_params is not None) or not path.exists():
        return params, map_params
    from plan_lib.parameters import load_parameters  # the parameters module imports review's

    plan = load_parameters(path)
    return params or plan.review, map_params or plan.maps


def build_review_dashboard(store_url: str, token_or_user: Any, run_dir: str | Path,
                           params: ReviewParams | None = None, map_params: MapParams | None = None) -> widgets.Widget:
    """The review page for the user behind ``token_or_user`` on the plan version of ``run_dir``.

    Returns a refusal page (not an exception) for a missing, tampered, expired
    or withdrawn link, or a version not open to the user. Settings not passed come
    from the run's own ``parameters.yaml`` (its ``review`` and ``maps`` sections).
    """
    params, map_params = _run_settings(run_dir, params, map_params)
    try:
        store = open_store(store_url)
    except ReviewError as error:
        return refusal_page("unavailable", str(error))
    try:
        user_id = _identify(store, token_or_user)
        version_id = find_version(store, run_dir)
        if version_id is None:
            return refusal_page("unavailable", f"no plan version is based on {run_dir}: RevOps opens one with `tqp serve`")
        session = ReviewSession(store, user_id, version_id)
        return ReviewDashboard(session, params, map_params).widget
    except TokenError as error:
        return refusal_page(error.reason, str(error))
    except ReviewError as error:
        return refusal_page("denied", str(error))
