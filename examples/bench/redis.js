// A redis-server session in the inline protocol: PING, SET a per-user key, GET it back.
//   redis-server --port 6379 &
//   echoplex bench script examples/bench/redis.js 127.0.0.1:6379 --conns 20 --duration 10s
export default async (conn, ctx) => {
  ctx.mark("ping");
  conn.send("PING\r\n");
  await conn.expect("+PONG\r\n", 2000);

  const key = `echoplex:${ctx.vu}`;
  const value = `v${Math.floor(ctx.random() * 1e9)}`;
  ctx.mark("set");
  conn.send(`SET ${key} ${value}\r\n`);
  await conn.expect("+OK\r\n", 2000);

  ctx.mark("get");
  conn.send(`GET ${key}\r\n`);
  // A bulk string: $<length>, then the value we set (another user's value would be a bug).
  await conn.expect(`$${value.length}\r\n${value}\r\n`, 2000);
};
