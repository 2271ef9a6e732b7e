"""The egress probe, judged (judge): which layer (DNS, TCP connect, proxy, TLS, HTTP) failed on the way to Blink.

Three ways to probe produce one ProbeResult shape, a list of layer steps in the order a client
takes them:

- the suite itself inside the runner container's network namespace (Docker, local engine): every
  step is tried and described by blinkcheck/docker/netns_probe.py;
- a tool (curl, wget, nc) run in a short-lived probe container (Docker, remote engine) or exec'd in
  a runner pod (Kubernetes): its exit code and messages are mapped onto the same steps here.

Also, pure and testable on canned data: the container's resolv.conf and hosts file, the DNS
wire format the namespace probe speaks, which proxy a URL goes through (HTTPS_PROXY, NO_PROXY), and
what a server certificate says (subject, issuer).

Rooms: result (the ProbeResult shape and its steps), judge (ProbeResult -> Finding), tools (curl, wget, nc
output -> steps), environment (resolv.conf, hosts, proxies, DNS on the wire, certificates).
"""
