// Re-exports of the proxy service.
export { createProxyServer, PROXY_DEFAULT_PORT, type ProxyOptions, type ProxyPeer } from "./server.js";
