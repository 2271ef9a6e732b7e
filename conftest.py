"""Root conftest: the Blink runner health-check plugin and its fixtures.

`pytest checks/` runs the health checks against a target and writes reports/;
`pytest tests/` runs the project's own tests (no reports).
"""

pytest_plugins = [
    "blinkcheck.plugin",
    "fixtures.common",
    "fixtures.docker",
    "fixtures.kubernetes",
    "fixtures.blink",
]
