"""README's options table says every option the suite has, with its environment variable and default."""

from __future__ import annotations

import re

from blinkcheck.options import OPTIONS
from tests.harness import ROOT


def test_every_option_is_in_the_readme_table_with_its_env_and_default():
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"^\| `(--[a-z-]+)`(?: / `(--[a-z-]+)`)? \| `([A-Z_]+)`(?: / `([A-Z_]+)`)? \| ([^|]+) \|", line)
        if m:
            flags, envs = [m[1], m[2]], [m[3], m[4]]
            for i, flag in enumerate(flags):
                if flag:
                    rows[flag] = (envs[i] or envs[0], m[5].strip())
    missing = [o.flag for o in OPTIONS if o.flag not in rows]
    assert not missing, f"README's options table lacks {missing}"
    for o in OPTIONS:
        env, default = rows[o.flag]
        assert env == o.env, (o.flag, env, o.env)
        if o.default and o.flag != "--catalog":  # the catalog's default is a path inside the package
            assert f"`{o.default}`" in default, (o.flag, default, o.default)
