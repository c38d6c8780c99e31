// A chat user against `echoplex chat`: picks a nick once, then says a line to the room
// and sends itself a private message; the server answers the private message after it
// has handled the room line (one connection's lines are handled in order). Users wait
// between iterations like people do; for a flood test run the server with --flood-rate 0.
//   echoplex chat :8081 &
//   echoplex bench script examples/bench/chat.js 127.0.0.1:8081 --conns 50 --duration 10s

// Connections that have picked their nick (after an error the user gets a new connection).
const joined = new WeakSet();

export default async (conn, ctx) => {
  if (!joined.has(conn)) {
    ctx.mark("join");
    await conn.expect(/joined #lobby\r?\n/, 5000);
    ctx.state.nick ??= `vu${ctx.vu}s${ctx.seed % 1000}`;
    conn.send(`/nick ${ctx.state.nick}\n`);
    await conn.expect(`is now known as ${ctx.state.nick}`, 5000);
    joined.add(conn);
  }
  ctx.mark("say");
  const text = `hello ${ctx.iteration} ${Math.floor(ctx.random() * 1e6)}`;
  conn.send(`${text}\n`);
  conn.send(`/msg ${ctx.state.nick} ${text}\n`);
  await conn.expect(`*${ctx.state.nick}* ${text}`, 5000);
  // Two lines per iteration: about 4 a second, under the server's flood control (5/s).
  await ctx.sleep(400 + ctx.random() * 200);
};
