// cup control page: shows the LED ring live (server-sent events from
// /api/events) and sends the controls to POST /api/pattern.
//
// The controls always show the device's state as the server reports it; a
// control is only left alone while the user is changing it or a request is
// in flight. A server with a token gets it from a form; the token lives in
// this tab's sessionStorage only (a ?token= in the address is moved there and
// taken out of the address bar).
"use strict";

const $ = (id) => document.getElementById(id);
const ring = $("ring");
const TOKEN_KEY = "cup-token";
let token = "";
let leds = [];
let patterns = {}; // name -> {settable, color, speed, brightness}
let lastState = null;
let lastFrame = -1; // ignore states older than one already shown
let busy = 0; // requests in flight: don't let stale events move the controls
const editing = {}; // control id -> time of the user's last input on it
let events = null;
let wired = false;
let timer = null;
let pending = {}; // changes waiting for sendSoon's timer

class AuthError extends Error {}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the token lasts until the page reloads
  }
}

function loadToken() {
  const params = new URLSearchParams(location.search);
  const fromURL = params.get("token");
  if (fromURL !== null) {
    if (fromURL) saveToken(fromURL);
    params.delete("token"); // keep it out of the address bar and history
    const q = params.toString();
    history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
  }
  token = (storage() && storage().getItem(TOKEN_KEY)) || token;
}

function saveToken(t) {
  token = t;
  const s = storage();
  if (s) s.setItem(TOKEN_KEY, t);
}

function headers() {
  const h = { "Content-Type": "application/json" };
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

function show(id, msg) {
  const e = $(id);
  e.textContent = msg || "";
  e.hidden = !msg;
}

function setStatus(kind, text) {
  const s = $("status");
  s.dataset.connected = kind;
  s.textContent = text;
}

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: headers(), body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) throw new AuthError(data.error || "token needed");
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function askToken() {
  if (events) events.close();
  events = null;
  $("auth-message").textContent = token
    ? "The token was not accepted. Enter the token of this cup server:"
    : "This cup server needs a token. Enter it to connect:";
  $("auth").hidden = false;
  $("controls-set").disabled = true;
  setStatus("token", "token needed");
  $("token").focus();
}

function buildRing(n) {
  ring.querySelectorAll(".led").forEach((e) => e.remove());
  leds = [];
  const r = 150 - 18; // px from the centre
  for (let i = 0; i < n; i++) {
    const a = (i / n) * 2 * Math.PI - Math.PI / 2;
    const d = document.createElement("div");
    d.className = "led";
    d.id = "led-" + i;
    d.dataset.index = i;
    d.style.left = (150 + r * Math.cos(a)).toFixed(1) + "px";
    d.style.top = (150 + r * Math.sin(a)).toFixed(1) + "px";
    ring.appendChild(d);
    leds.push(d);
  }
}

function render(st) {
  if (typeof st.frame === "number") {
    if (st.frame < lastFrame) return;
    lastFrame = st.frame;
  }
  lastState = st;
  if (st.leds && st.leds.length !== leds.length) buildRing(st.leds.length);
  (st.leds || []).forEach((c, i) => {
    const d = leds[i];
    if (d.dataset.color === c) return;
    d.dataset.color = c;
    d.style.backgroundColor = c;
    d.style.boxShadow = c === "#000000" ? "none" : "0 0 14px 3px " + c;
  });
  ring.dataset.pattern = st.pattern;
  ring.dataset.frame = st.frame;
  $("temp").textContent = st.temperature_c == null ? "– °C" : st.temperature_c.toFixed(1) + " °C";
  $("device").textContent = st.device + (st.firmware ? " · " + st.firmware : "");
  setStatus(String(!!st.connected), st.connected ? "connected" : "disconnected");
  if (busy === 0) syncControls(st);
  show("device-error", st.error); // the message names the device itself
}

// syncControls makes the controls show st, except one the user is moving.
function syncControls(st) {
  setPattern(st.pattern);
  setControl("color", st.color);
  setControl("brightness", st.brightness);
  setControl("speed", st.speed);
  enableFor(st.pattern);
}

function setPattern(name) {
  const sel = $("pattern");
  if (![...sel.options].some((o) => o.value === name)) addOption(name, false);
  if (sel.value !== name) sel.value = name;
}

function setControl(id, v) {
  const e = $(id);
  if (Date.now() - (editing[id] || 0) < 1500 || id in pending) return;
  if (e.value !== String(v)) e.value = v;
  if ($(id + "-value")) $(id + "-value").textContent = v;
}

// enableFor disables the controls the pattern ignores (rainbow has its own
// colours, off shows nothing, custom is set pixel by pixel).
function enableFor(name) {
  const p = patterns[name];
  for (const id of ["color", "speed", "brightness"]) $(id).disabled = p ? !p[id] : false;
}

function addOption(name, settable) {
  const o = document.createElement("option");
  o.value = name;
  o.textContent = settable ? name : name + " (set through the API)";
  o.disabled = !settable; // shown when the device is in it, never chosen here
  $("pattern").appendChild(o);
}

async function send(change) {
  busy++;
  try {
    render(await api("POST", "/api/pattern", change));
    show("error", "");
  } catch (err) {
    if (err instanceof AuthError) return askToken();
    show("error", err.message);
  } finally {
    busy--;
    if (busy === 0 && lastState) syncControls(lastState); // back to the truth after a failure
  }
}

function sendSoon(change) { // coalesce slider and colour-picker drags into one request
  pending = { ...pending, ...change };
  clearTimeout(timer);
  timer = setTimeout(() => {
    const c = pending;
    pending = {};
    send(c);
  }, 60);
}

function wire() {
  if (wired) return;
  wired = true;
  $("pattern").addEventListener("change", (e) => {
    enableFor(e.target.value);
    send({ pattern: e.target.value });
  });
  $("color").addEventListener("input", (e) => {
    editing.color = Date.now();
    sendSoon({ color: e.target.value });
  });
  $("color").addEventListener("change", (e) => {
    editing.color = Date.now();
    send({ color: e.target.value });
  });
  for (const id of ["brightness", "speed"]) {
    $(id).addEventListener("input", (e) => {
      editing[id] = Date.now();
      $(id + "-value").textContent = e.target.value;
      sendSoon({ [id]: Number(e.target.value) });
    });
  }
  $("auth").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = $("token").value.trim();
    if (!t) return;
    $("token").value = "";
    saveToken(t);
    start();
  });
}

function listen() {
  if (events) events.close();
  const es = new EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  events = es;
  es.addEventListener("open", () => { lastFrame = -1; }); // the server may have restarted
  es.addEventListener("state", (e) => render(JSON.parse(e.data)));
  es.onerror = async () => {
    setStatus("false", "reconnecting…");
    if (es.readyState !== EventSource.CLOSED) return; // the browser retries by itself
    // The stream was refused (e.g. 401): find out why, then try again.
    try {
      await api("GET", "/api/state");
    } catch (err) {
      if (err instanceof AuthError) return askToken();
    }
    setTimeout(() => { if (events === es) listen(); }, 2000);
  };
}

async function loadPatterns() {
  const { patterns: names, details } = await api("GET", "/api/patterns");
  const sel = $("pattern");
  sel.replaceChildren();
  patterns = {};
  for (const d of details || names.map((name) => ({ name, settable: true, color: true, speed: true, brightness: true }))) {
    patterns[d.name] = d;
    addOption(d.name, d.settable);
  }
}

async function start() {
  wire();
  loadToken();
  try {
    await loadPatterns();
    render(await api("GET", "/api/state"));
    show("error", "");
  } catch (err) {
    if (err instanceof AuthError) return askToken();
    show("error", err.message);
  }
  $("auth").hidden = true;
  $("controls-set").disabled = false;
  listen();
}

start();
