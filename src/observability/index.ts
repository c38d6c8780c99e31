// Observability: the admin endpoint (Prometheus metrics, health, JSON views, status page).
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
export {
  type EngineView,
  isObservable,
  type Observable,
  type ObservedServer,
  type ServiceCounters,
  toObserved,
} from "./source.js";
export {
  answerPrimary,
  clusterAdminSource,
  mergePeers,
  mergeStats,
  type WorkerGroup,
} from "./worker-aggregation.js";
