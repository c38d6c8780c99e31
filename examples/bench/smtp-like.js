// An SMTP-like dialogue: greeting, HELO, MAIL FROM, RCPT TO, DATA, the message, QUIT.
// Each reply starts with its status code; a missing one fails the step it belongs to.
//   echoplex bench script examples/bench/smtp-like.js 127.0.0.1:2525 --conns 10 --requests 1000
export default async (conn, ctx) => {
  ctx.mark("greeting");
  await conn.expect(/^220 .*\r?\n/m, 5000);
  ctx.mark("helo");
  conn.send(`HELO vu${ctx.vu}.example\r\n`);
  await conn.expect(/250[ -].*\r?\n/, 5000);
  ctx.mark("envelope");
  conn.send(`MAIL FROM:<vu${ctx.vu}@example.com>\r\n`);
  await conn.expect(/250 .*\r?\n/, 5000);
  conn.send("RCPT TO:<sink@example.com>\r\n");
  await conn.expect(/250 .*\r?\n/, 5000);
  ctx.mark("data");
  conn.send("DATA\r\n");
  await conn.expect(/354 .*\r?\n/, 5000);
  conn.send(`Subject: test ${ctx.iteration}\r\n\r\nhello from vu ${ctx.vu}\r\n.\r\n`);
  await conn.expect(/250 .*\r?\n/, 5000);
  ctx.mark("quit");
  conn.send("QUIT\r\n");
  await conn.expect(/221 .*\r?\n/, 5000);
  // The server closes after QUIT: the next iteration needs a fresh connection.
  conn.reconnect();
};
