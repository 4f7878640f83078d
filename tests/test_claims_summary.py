"""The summary chapter's tables (vidsal_study.chapters.summary.claims), from rows as the chapters save them."""

import pandas as pd
import pytest

from vidsal_study.chapters.summary.claims import claims_table, count_glue, counts_table
from vidsal_core.statistics import Estimate
from vidsal_study.results import check_row, claim_row, load_register, new_row


def rows():
    made = [
        claim_row("000-one-step-beats-two-step", "ρ, one-step − TSR (FrameLSTM, mask=first_element)",
                  Estimate(0.2, 0.1, 0.3, 18, 9)),
        claim_row("000-one-step-beats-two-step", "ρ, one-step − TSR (FrameLSTM, mask=blur)",
                  Estimate(-0.2, -0.3, -0.1, 18, 9)),
        claim_row("000-set-of-frames", "log-odds synergy (LSTM)", Estimate(0.01, -0.1, 0.12, 18, 9)),
        claim_row("ismail2020-tsr-improves", "AUROC, TSR − gradient (c3d_6class, mask=zero)",
                  Estimate(-0.05, -0.08, -0.02, 9, 9)),
        claim_row("002-border-trained", "border x100, DTD (C3D)", Estimate(0.02, 0.01, 0.03, 9, 9), scale=100),
        claim_row("002-border-trained", "border x100, SA (I3D)", Estimate(0.02, 0.01, 0.03, 5, 5), scale=100),
        new_row(None, None, "lookahead x100 (C3D trained without cards)", Estimate(1.0, 0.5, 1.5, 9, 9),
                claim_id="002-title-screens"),
        new_row("000", "a measurement", "q", 1.0),
    ]
    return [check_row(row) for row in made]


def test_counts_by_source_and_kind_with_holm():
    table = counts_table(rows())
    assert [(r.source, r.kind) for r in table.itertuples()] == [("000", "finding"), ("000", "hypothesis"),
                                                                ("002", "finding"), ("ismail2020", "finding")]
    first = table.iloc[0]
    assert (first["reproduced"], first["contradicted"], first["rows"]) == (1, 1, 2)
    assert table.set_index("source").loc["002", "rows"] == 1          # the underpowered row is not counted
    assert table["decided after Holm"].sum() <= (table["reproduced"] + table["contradicted"]).sum()


def test_claims_table_quotes_each_claim_and_aggregates_its_rows():
    table = claims_table(rows())
    # the seeds' own findings first, then their hypotheses, then other papers' claims
    assert list(table["claim"]) == [load_register()[i].statement for i in (
        "000-one-step-beats-two-step", "002-border-trained", "000-set-of-frames", "ismail2020-tsr-improves")]
    one_step = table.iloc[0]
    assert one_step["quote"].startswith("“we observe that the One Step method") and "(§4.3)" in one_step["quote"]
    assert "also: “we can observe that they are very pixelated" in one_step["quote"]
    assert one_step["verdict per model or setting"] == ("reproduced on FrameLSTM, mask=first_element; "
                                                         "contradicted on FrameLSTM, mask=blur")
    assert (one_step["rows"], one_step["held"]) == (2, 1)
    ismail = table.iloc[-1]
    assert ismail["source"].startswith("Ismail") and "We adopt this approach" in ismail["quote"]
    seeds_only = claims_table(rows(), sources=["000"])
    assert set(seeds_only["kind"]) == {"finding", "hypothesis"} and len(seeds_only) == 2


def test_count_glue_counts_every_source_and_the_uncounted_rows():
    values = count_glue(pd.DataFrame(rows()))
    assert (values["n_000_reproduced"], values["n_000_contradicted"], values["n_000_inconclusive"]) == (1, 1, 1)
    assert values["n_000_findings"] == 2 and values["n_000_decided"] == 2
    assert values["n_ismail2020_contradicted"] == 1 and values["n_adebayo2018_reproduced"] == 0
    assert (values["n_counted"], values["n_underpowered"], values["n_new"], values["n_claims"]) == (5, 1, 2, 4)
    assert 0 <= values["n_000_holm"] <= 2
