"""prcore's views of a results file: summary, per-class table, threshold picks."""

from __future__ import annotations


def analysis_text(gt: str, results: str) -> str:
    import prcore

    result = prcore.evaluate(gt, results)
    parts = [
        result.summary(),
        "",
        result.per_class_table(),
        "",
        result.select_thresholds(best_f1=True).to_text(),
    ]
    note = result.truncation()
    if note:
        parts += ["", note]
    return "\n".join(parts)
