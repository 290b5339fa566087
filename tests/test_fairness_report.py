"""The HTML report: self-contained, says whether the plan can be locked, lists the reps that break each criterion."""

from __future__ import annotations

import pandas as pd
from test_fairness_criteria import BOOKS, _tables

from plan_lib.fairness.charts import criteria_chart, distribution_chart, lorenz_chart
from plan_lib.fairness.criteria import compare, evaluate
from plan_lib.fairness.lock import decide_lock, parse_waivers
from plan_lib.fairness.params import FairnessParams
from plan_lib.fairness.report import render_report

OVERRIDES = pd.DataFrame({"override_id": [1], "kind": ["reassign"], "account_id": ["a2"], "rep_id": ["A1"], "quota": [None],
                          "author": ["Mia (M1)"], "reason": ["knows <the> CFO"], "status": ["honoured"], "detail": ["a2 fixed to A1"],
                          "family_moved": [0]})


def _render(waivers: str = "") -> tuple[str, list[str]]:
    params = FairnessParams()
    draft_reps, facts = _tables()
    fixed = BOOKS.copy()
    fixed.loc[fixed["rep_id"] == "A1", "potential"] = 98.0
    reps, _ = _tables(books=fixed)
    draft, refined = evaluate(params, draft_reps, facts), evaluate(params, reps, facts)
    decision = decide_lock(refined.criteria, parse_waivers(waivers))
    figures = {"criteria": criteria_chart(draft, refined, params), "distributions": distribution_chart(draft, refined, params),
               "lorenz": lorenz_chart(draft_reps, reps)}
    text = render_report(title="Fairness of the 2027Q1 plan", context={"period": "2027Q1", "plan version": "3"}, params=params,
                         draft=draft, refined=refined, comparison=compare(draft, refined, params), reps=reps, overrides=OVERRIDES,
                         edits={"honoured": 1, "moved": 1}, figures=figures, decision=decision.to_dict(),
                         waivers=[w.model_dump() for w in parse_waivers(waivers)])
    return text, refined.failing


def test_the_report_is_self_contained_and_says_what_blocks_the_lock() -> None:
    text, failing = _render()
    assert text.count("data:image/png;base64,") == 3
    assert "http://" not in text and "https://" not in text and "<script" not in text
    assert "Not ready to lock" in text and all(name in text for name in failing)
    assert "knows &lt;the&gt; CFO" in text  # user text is escaped
    assert "Potential per FTE close to the segment mean" in text
    # the breaking reps of territory quality (B1, B3) are listed with their numbers
    section = text.split("Territory quality")[-1].split("<h3>")[0]
    assert "B1" in section and "B3" in section and "B2" not in section


def test_with_a_waiver_for_each_failure_the_report_says_it_can_be_locked() -> None:
    _, failing = _render()
    waivers = "[" + ",".join(f'{{"criterion": "{n}", "by": "Vera VP", "reason": "accepted for {n}"}}' for n in failing) + "]"
    text, _ = _render(waivers)
    assert "Can be locked with waivers" in text and "Vera VP" in text and f"accepted for {failing[0]}" in text
