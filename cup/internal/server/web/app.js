// cup control page: shows the LED ring live (server-sent events from
// /api/events) and sends the controls to POST /api/pattern.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);
const ring = $("ring");
let leds = [];
let busy = 0; // requests in flight: don't let stale events move the controls

function headers() {
  const h = { "Content-Type": "application/json" };
  if (token) h["Authorization"] = "Bearer " + token;
  return h;
}

function showError(msg) {
  const e = $("error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

async function api(method, path, body) {
  const res = await fetch(path, { method, headers: headers(), body: body ? JSON.stringify(body) : undefined });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
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
  const s = $("status");
  s.dataset.connected = String(!!st.connected);
  s.textContent = st.connected ? "connected" : "disconnected";
  if (busy === 0) {
    setControl("pattern", st.pattern);
    setControl("color", st.color);
    setControl("brightness", st.brightness);
    setControl("speed", st.speed);
  }
  showError(st.error ? "device: " + st.error : "");
}

function setControl(id, v) {
  const e = $(id);
  if (document.activeElement === e || e.value === String(v)) return;
  if (id === "pattern" && ![...e.options].some((o) => o.value === v)) return;
  e.value = v;
  if ($(id + "-value")) $(id + "-value").textContent = v;
}

async function send(change) {
  busy++;
  try {
    render(await api("POST", "/api/pattern", change));
    showError("");
  } catch (err) {
    showError(err.message);
  } finally {
    busy--;
  }
}

let timer = null;
let pending = {};
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
  $("pattern").addEventListener("change", (e) => send({ pattern: e.target.value }));
  $("color").addEventListener("input", (e) => sendSoon({ color: e.target.value }));
  $("color").addEventListener("change", (e) => send({ color: e.target.value }));
  for (const id of ["brightness", "speed"]) {
    $(id).addEventListener("input", (e) => {
      $(id + "-value").textContent = e.target.value;
      sendSoon({ [id]: Number(e.target.value) });
    });
  }
}

function listen() {
  const es = new EventSource("/api/events" + (token ? "?token=" + encodeURIComponent(token) : ""));
  es.addEventListener("state", (e) => render(JSON.parse(e.data)));
  es.onerror = () => {
    $("status").dataset.connected = "false";
    $("status").textContent = "reconnecting…";
  };
}

async function main() {
  try {
    const { patterns } = await api("GET", "/api/patterns");
    const sel = $("pattern");
    for (const p of patterns) {
      const o = document.createElement("option");
      o.value = o.textContent = p;
      sel.appendChild(o);
    }
    render(await api("GET", "/api/state"));
  } catch (err) {
    showError(err.message);
  }
  wire();
  listen();
}

main();
