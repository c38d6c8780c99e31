// The chat page's script, as the text the browser runs: it speaks the chat's own line
// protocol over the WebSocket door (one line per message), so the hub needs nothing
// new. Every line from the server goes into the page with textContent only, never as
// HTML, so markup another user sends is shown, not run. (Kept free of backticks and
// template holes: it is embedded in a template literal.)
export const CHAT_WEB_SCRIPT = String.raw`"use strict";
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var log = $("log"), priv = $("private"), members = $("members"), state = $("state");
  var input = $("input"), nickInput = $("nick"), passForm = $("pass-form"), passInput = $("pass");
  var ws = null, attempt = 0, everConnected = false, timer = 0;
  var me = "", room = "", wantedNick = "", password = "", inHistory = false, quietWho = 0;
  // Another user can make a line look like a server notice ("/me" from a user called
  // "Welcome" or "3"): the lines that steer the page count only when one is expected.
  var welcomed = false, whoAsked = 0, expectHistory = false;
  var people = [];
  // Lines this page showed itself when sent; the server echoes them only with --echo-self.
  var mine = [];
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + location.pathname + location.search;

  function setState(name, words) {
    state.dataset.state = name;
    state.textContent = words;
    var open = name === "connected";
    input.disabled = !open;
    $("send").disabled = !open;
    $("retry").hidden = name !== "offline";
  }
  function line(where, kind, text, from) {
    var div = document.createElement("div");
    div.className = "line " + kind + (inHistory ? " history" : "");
    if (from !== undefined) {
      var who = document.createElement("span");
      who.className = "from";
      who.textContent = from;
      div.appendChild(who);
      div.appendChild(document.createTextNode(" "));
    }
    var body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    div.appendChild(body);
    var stick = where.scrollTop + where.clientHeight >= where.scrollHeight - 4;
    where.appendChild(div);
    while (where.childNodes.length > 2000) where.removeChild(where.firstChild);
    if (stick) where.scrollTop = where.scrollHeight;
  }
  function showMembers() {
    people.sort();
    members.textContent = "";
    $("room").textContent = room;
    $("me").textContent = me;
    $("count").textContent = String(people.length);
    for (var i = 0; i < people.length; i++) {
      var li = document.createElement("li");
      li.textContent = people[i];
      if (people[i] === me) li.className = "self";
      li.title = "click to send a private message";
      members.appendChild(li);
    }
  }
  function askWho() {
    quietWho++;
    whoAsked++;
    ws.send("/who");
  }
  function rename(from, to) {
    var i = people.indexOf(from);
    if (i >= 0) people[i] = to;
    if (from === me) me = to;
    showMembers();
  }
  // What a line says about the room, the members and this user; returns true for a
  // line that is only bookkeeping (an automatic /who answer) and not shown.
  function track(text) {
    var m;
    if (!welcomed && (m = /^\* Welcome to echoplex chat, ([\w-]+)! You are in (#[\w-]+)\./.exec(text))) {
      me = m[1]; room = m[2]; attempt = 0; welcomed = true; expectHistory = true;
      setState("connected", everConnected ? "connected (reconnected)" : "connected");
      if (everConnected) line(log, "local", "reconnected");
      everConnected = true;
      if (wantedNick !== "" && wantedNick !== me) ws.send("/nick " + wantedNick);
      return false;
    }
    if (!welcomed && /^\* Welcome to echoplex chat\. This server needs a password/.test(text)) {
      if (password !== "") ws.send("/pass " + password);
      else { passForm.hidden = false; passInput.focus(); }
      setState("password", "password needed");
      return false;
    }
    if (!welcomed && text === "* password accepted") { passForm.hidden = true; return false; }
    if (!welcomed && /^! (wrong password|send \/pass)/.test(text)) {
      password = ""; passForm.hidden = false; passInput.focus();
      return false;
    }
    if (expectHistory && /^\* last \d+ messages? in #/.test(text)) { inHistory = true; expectHistory = false; return false; }
    if (inHistory && text === "* end of history") { inHistory = false; return false; }
    if (inHistory) return false;
    if (whoAsked > 0 && (m = /^\* (\d+) in (#[\w-]+): (.*)$/.exec(text))) {
      whoAsked--;
      room = m[2];
      people = m[3] === "" ? [] : m[3].split(", ").map(function (p) { return p.replace(/ \(idle [^)]*\)$/, ""); });
      showMembers();
      if (quietWho > 0) { quietWho--; return true; }
      return false;
    }
    if ((m = /^\* ([\w-]+) joined (#[\w-]+)$/.exec(text))) {
      if (m[1] === me) { room = m[2]; people = [me]; expectHistory = false; askWho(); }
      else if (m[2] === room && people.indexOf(m[1]) < 0) people.push(m[1]);
      showMembers();
      return false;
    }
    if ((m = /^\* ([\w-]+) left (#[\w-]+) \(/.exec(text))) {
      people = people.filter(function (p) { return p !== m[1]; });
      showMembers();
      return false;
    }
    if ((m = /^\* ([\w-]+) is now known as ([\w-]+)$/.exec(text))) {
      if (m[1] === me) { wantedNick = m[2]; nickInput.value = m[2]; }
      rename(m[1], m[2]);
    }
    return false;
  }
  function received(text) {
    if (track(text)) return;
    var m, i = inHistory ? -1 : mine.indexOf(text);
    if (i >= 0) { mine.splice(i, 1); return; }
    if ((m = /^-> \*([\w-]+)\* ([\s\S]*)$/.exec(text))) line(priv, "private out", m[2], "to " + m[1] + ":");
    else if ((m = /^\*([\w-]+)\* ([\s\S]*)$/.exec(text))) line(priv, "private in", m[2], m[1] + ":");
    else if ((m = /^<([\w-]+)> ([\s\S]*)$/.exec(text))) line(log, m[1] === me ? "say self" : "say", m[2], "<" + m[1] + ">");
    else if (text.charAt(0) === "!") line(log, "error", text);
    else line(log, "notice", text);
  }
  function connect() {
    timer = 0;
    setState("connecting", everConnected ? "reconnecting\u2026" : "connecting\u2026");
    welcomed = false; whoAsked = 0; quietWho = 0; expectHistory = false;
    var socket = new WebSocket(url);
    ws = socket;
    socket.onmessage = function (e) { if (typeof e.data === "string") received(e.data); };
    socket.onclose = function () {
      if (ws !== socket) return;
      ws = null; people = []; quietWho = 0; inHistory = false; showMembers();
      // Exponential backoff with jitter, capped: a restarting server is not stormed.
      var delay = Math.min(30000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
      attempt = Math.min(attempt + 1, 10);
      setState("offline", "disconnected; retrying in " + Math.ceil(delay / 1000) + " s");
      timer = setTimeout(connect, delay);
    };
  }
  $("say").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    if (text.trim() === "" || ws === null || ws.readyState !== 1) return;
    ws.send(text);
    input.value = "";
    if (/^\/who\s*$/.test(text.trim())) whoAsked++;
    if (/^\/join\s/.test(text.trim())) expectHistory = true;
    // The server does not send a user's own lines back (unless --echo-self): show them here.
    var said = text.trim(), m = /^\/me (.+)$/.exec(said);
    if (m) { line(log, "notice self", "* " + me + " " + m[1]); mine.push("* " + me + " " + m[1]); }
    else if (said.charAt(0) !== "/" || said.charAt(1) === "/") {
      if (said.charAt(0) === "/") said = said.slice(1);
      line(log, "say self", said, "<" + me + ">");
      mine.push("<" + me + "> " + said);
    }
    if (mine.length > 50) mine.shift();
  });
  $("nick-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var nick = nickInput.value.trim();
    if (nick === "") return;
    wantedNick = nick;
    if (ws !== null && ws.readyState === 1 && nick !== me) ws.send("/nick " + nick);
  });
  passForm.addEventListener("submit", function (e) {
    e.preventDefault();
    password = passInput.value;
    passInput.value = "";
    if (ws !== null && ws.readyState === 1) ws.send("/pass " + password);
  });
  members.addEventListener("click", function (e) {
    var nick = e.target && e.target.textContent;
    if (e.target.tagName === "LI" && nick !== me) { input.value = "/msg " + nick + " "; input.focus(); }
  });
  $("retry").addEventListener("click", function () {
    if (timer !== 0) { clearTimeout(timer); attempt = 0; connect(); }
  });
  connect();
})();
`;
