// Observability: the admin endpoint (Prometheus metrics, health, JSON views, status page).
export { ADMIN_DEFAULT_HOST, type AdminOptions, type AdminServer, startAdmin } from "./admin.js";
export { TOKEN_COOKIE } from "./auth.js";
export { createMetricsRegistry, LATENCY_BUCKETS, METRIC_PREFIX, type MetricsOptions } from "./metrics.js";
export type { PeersSnapshot, ServiceStats, StatsSnapshot } from "./snapshot.js";
export { isObservable, type ObservedServer } from "./source.js";
