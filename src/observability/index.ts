// Observability: the admin endpoint (Prometheus metrics, health, JSON views, status page).
// It reads any `Service` (src/core/service.ts); the --workers aggregation stays internal.
export {
  ADMIN_DEFAULT_HOST,
  type AdminEndpoint,
  type AdminOptions,
  type AdminServer,
  type AdminSource,
  startAdmin,
  startAdminEndpoint,
} from "./admin.js";
export { TOKEN_COOKIE } from "./auth.js";
export { createMetricsRegistry, LATENCY_BUCKETS, METRIC_PREFIX, type MetricsOptions } from "./metrics.js";
export type { ListedPeer, PeersSnapshot, Readiness, ServiceStats, StatsSnapshot } from "./snapshot.js";
