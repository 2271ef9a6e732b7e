"""The Docker room: client (SDK client, ssh:// transport), context (docker CLI contexts), gather (the facts
gatherer: the suite's Docker I/O), facts (API objects -> facts), judges by runbook section (preconditions,
disconnected, upgrade, deployment), probe and netns_probe (the egress probe). Never imports the Kubernetes room."""
