// The chat's web page: one self-contained HTML document (inline style and script, no
// external URL, no build step) that a chat's ws:// door serves to a browser opening
// its URL. Its Content-Security-Policy allows only this page's own script and style
// (by hash) and WebSocket connections back to its origin, so even markup that got
// into the page could not run or load anything.
import { createHash } from "node:crypto";
import type { WsPage } from "../../core/contract.js";
import { CHAT_WEB_SCRIPT } from "./web-client.js";

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --bg: #f6f7f9; --panel: #fff; --line: #d9dde5; --dim: #6b7385; --accent: #2f6fde; --err: #b3261e; --priv: #7a3fb8; }
@media (prefers-color-scheme: dark) { :root { --fg: #e3e6ec; --bg: #15181e; --panel: #1d2129; --line: #2e3440; --dim: #8a93a6; --accent: #6ea0ff; --err: #ff8a80; --priv: #c69cff; } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; height: 100vh; display: grid; grid-template-rows: auto 1fr auto; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header, footer { display: flex; gap: .75em; align-items: center; padding: .5em .75em; background: var(--panel); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
footer { border-top: 1px solid var(--line); border-bottom: 0; }
h1 { font-size: 1em; margin: 0; }
#state { padding: .1em .6em; border-radius: 1em; font-size: .85em; background: var(--line); }
#state[data-state="connected"] { background: #2e7d32; color: #fff; }
#state[data-state="offline"] { background: var(--err); color: #fff; }
#state[data-state="password"] { background: #b26a00; color: #fff; }
main { display: grid; grid-template-columns: 1fr 14em; grid-template-rows: 1fr 10em; min-height: 0; }
#log, #private { overflow-y: auto; padding: .5em .75em; white-space: pre-wrap; overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
#private { grid-column: 1; border-top: 2px solid var(--priv); }
#private::before { content: "private messages"; display: block; color: var(--priv); font-size: .8em; }
aside { grid-column: 2; grid-row: 1 / 3; border-left: 1px solid var(--line); background: var(--panel); padding: .5em .75em; overflow-y: auto; }
aside h2 { font-size: .9em; margin: 0 0 .4em; }
#members { list-style: none; margin: 0; padding: 0; }
#members li { cursor: pointer; padding: .1em 0; }
#members li.self { font-weight: bold; cursor: default; }
.from { color: var(--accent); font-weight: bold; }
.notice, .local, .history { color: var(--dim); }
.error { color: var(--err); }
.private .from { color: var(--priv); }
form { display: flex; gap: .4em; margin: 0; }
#say { flex: 1; }
#input { flex: 1; }
input, button { font: inherit; padding: .3em .5em; }
#nick { width: 9em; }
`;

const HTML_HEAD = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>echoplex chat</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>echoplex chat</h1>
  <span id="state" data-state="connecting" role="status" aria-live="polite">connecting…</span>
  <button id="retry" type="button" hidden>retry now</button>
  <span>you are <b id="me"></b> in <b id="room"></b></span>
  <form id="nick-form"><input id="nick" placeholder="nick" maxlength="32" autocomplete="nickname" aria-label="nick"><button>set nick</button></form>
  <form id="pass-form" hidden><input id="pass" type="password" placeholder="server password" aria-label="password"><button>enter</button></form>
</header>
<main>
  <div id="log" aria-live="polite"></div>
  <div id="private" aria-live="polite"></div>
  <aside><h2>in the room (<span id="count">0</span>)</h2><ul id="members"></ul></aside>
</main>
<footer>
  <form id="say"><input id="input" autocomplete="off" placeholder="say something, or /me, /join #room, /msg NICK text, /nick NAME, /help" aria-label="message" disabled><button id="send" disabled>send</button></form>
</footer>
<script>`;

const HTML_TAIL = `</script>
</body>
</html>
`;

function sha256(text: string): string {
  return `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
}

/** The page and the headers it is served with. */
export const CHAT_WEB_PAGE: WsPage = {
  contentType: "text/html; charset=utf-8",
  body: HTML_HEAD + CHAT_WEB_SCRIPT + HTML_TAIL,
  headers: {
    "content-security-policy": [
      "default-src 'none'",
      `script-src ${sha256(CHAT_WEB_SCRIPT)}`,
      `style-src ${sha256(STYLE)}`,
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join("; "),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  },
};
