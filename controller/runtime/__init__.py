"""Infrastructure of the running controller, free of Network knowledge (kopf's `_cogs`).

`logs` (JSON lines), `ratelimit` (token bucket, per-item backoff), `workqueue` (client-go's queue),
`informer` (list + watch + resync), `leaderelection` (Lease lock and the extension heartbeat), `tasks`
(background tasks that never die silently) and `server` (/healthz, /readyz, /metrics).
`controller.manager` wires them to the domain (`contract`, `reconciler`). The one Gardener piece here is
the extension heartbeat Lease, which every extension keeps.
"""
