"""The model: outcomes, findings, the runbook catalog, judging functions, redaction, reports."""
