"""The reports of a run, from plain data (blinkcheck.results, blinkcheck.run): report.html (html, rows,
verdict), results.json (results_json), junit.xml (pytest's, shaped by rows), the escalation packet (packet),
and the leak gate over all of them. Never imports the pytest plugin."""
