// VAE Zoo, live in the page: the zoo's ONNX exports decoded in the browser with onnxruntime-web.
//
// Why: every slider tick used to be a server round trip (3-4 requests a move). The decoders are
// tiny, so the student's own machine decodes each tick in a millisecond, and the server is asked
// only for what needs it (encoding the shipped examples, uploads, the share link at a drag's end).
//
// How it fits the Gradio page: ui/live.py puts a manifest in window.VAE_ZOO_LIVE (the runtime's
// files with their SRI hashes, each model's encoder/decoder URLs and shape). The tabs' Python
// events hand this module what only the server knows (the codes of the chosen inputs, a map's
// projection) through hidden JSON components, and every tick of a live control calls
// `vaeZooLive.tick(kind, values)`: a slider's from its own DOM input event (so the picture is in the
// next frame), anything else from a frontend-only Gradio event (no request either way). Pictures are
// written into the tabs' own <img> elements as data: URLs, so they look exactly like the
// server's (the same 4x nearest-neighbour enlargement and grid layout as zoo/demo/images.py).
//
// If the runtime cannot load (no WebAssembly, a blocked CDN, a hash that does not match), the
// page says so in one line (#live-status) and stays on the server path: the tabs' server events
// still run when a drag ends, and the API is the same either way.

const CONFIG = window.VAE_ZOO_LIVE || { runtime: null, models: {} };
const SCALE = 4; // zoo/demo/images.py SCALE: tiles are shown 4x, nearest-neighbour
const GUTTER = 96; // zoo/demo/images.py grid(): the grey between tiles
const PAD = 2;

let ort = null; // the onnxruntime-web module, once loaded
let status = "loading"; // "loading" | "ready" | "failed"
const sessions = new Map(); // model URL -> Promise<InferenceSession>
const serverState = {}; // kind -> the latest value the server handed over
const latest = {}; // kind -> the latest tick's values
const timings = []; // [kind, ms from the input event to the picture written, ... to it painted], for bench/live.py

// ------------------------------------------------------------------------------------------
// The runtime: the pinned onnxruntime-web, from this app (offline) or a CDN, checked by SRI

async function fetchChecked(url, integrity) {
  // `integrity` makes the browser refuse a file whose hash is not the pinned one (also from a CDN).
  const response = await fetch(url, { integrity });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

async function loadRuntime() {
  if (typeof WebAssembly !== "object") throw new Error("this browser has no WebAssembly");
  const { base, files } = CONFIG.runtime;
  const get = (name) => fetchChecked(base + name, files[name]);
  const [main, glue, wasm] = await Promise.all(["ort.wasm.min.mjs", "ort-wasm-simd-threaded.mjs",
    "ort-wasm-simd-threaded.wasm"].map(get));
  // Checked bytes become blob: URLs, so what is imported is exactly what was verified.
  const asModule = async (response) => URL.createObjectURL(new Blob([await response.text()], { type: "text/javascript" }));
  ort = await import(await asModule(main));
  ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, and the models are too small to gain from them
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = { mjs: await asModule(glue) };
  ort.env.wasm.wasmBinary = await wasm.arrayBuffer();
}

function session(name, part) {
  const url = CONFIG.models[name]?.[part];
  if (!url) return null;
  if (!sessions.has(url)) {
    sessions.set(url, fetch(url).then((r) => {
      if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
      return r.arrayBuffer();
    }).then((bytes) => ort.InferenceSession.create(new Uint8Array(bytes), { executionProviders: ["wasm"] })));
  }
  return sessions.get(url);
}

// ------------------------------------------------------------------------------------------
// Running the models

function labelTensor(labels) {
  return new ort.Tensor("int64", BigInt64Array.from(labels.map((y) => BigInt(y))), [labels.length]);
}

// codes: array of arrays (B, D); labels: array of ints or null -> Float32Array (B*C*H*W) in [0, 1]
async function decode(name, codes, labels) {
  const model = CONFIG.models[name];
  const run = await session(name, "decoder");
  const feeds = { z: new ort.Tensor("float32", Float32Array.from(codes.flat()), [codes.length, model.latent_dim]) };
  if (model.conditional) feeds.label = labelTensor(labels);
  return (await run.run(feeds)).image.data;
}

// pixels: Float32Array (B*H*W) in [0, 1] -> {mean, std} arrays of B codes
async function encode(name, pixels, batch, labels) {
  const model = CONFIG.models[name];
  const run = await session(name, "encoder");
  const feeds = { image: new ort.Tensor("float32", pixels, [batch, ...model.input_shape]) };
  if (model.conditional) feeds.label = labelTensor(labels);
  const out = await run.run(feeds);
  const d = model.latent_dim;
  const rows = (t) => Array.from({ length: batch }, (_, i) => Array.from(t.data.slice(i * d, (i + 1) * d)));
  return { mean: rows(out.mean), std: out.std ? rows(out.std) : null };
}

// ------------------------------------------------------------------------------------------
// Drawing: the same pictures as zoo/demo/images.py (enlarge, grid), into the tab's own <img>

function toUint8(p) {
  return Math.floor(Math.min(1, Math.max(0, p)) * 255 + 0.5); // images.to_uint8
}

// images: Float32Array (N*C*H*W), C = 1 (grey) or 3 (colour, planar as the decoder gives it) -> a canvas of
// the tiles in rows of `columns` (columns 1, pad 0: one tile)
function tiles(images, n, h, w, columns, pad = PAD, scale = SCALE) {
  const c = Math.max(1, Math.round(images.length / (n * h * w)));
  const rows = Math.max(1, Math.ceil(n / columns));
  const tile = w * scale;
  const canvas = document.createElement("canvas");
  canvas.width = columns * (tile + pad) + pad;
  canvas.height = rows * (h * scale + pad) + pad;
  const ctx = canvas.getContext("2d");
  const out = ctx.createImageData(canvas.width, canvas.height);
  out.data.fill(GUTTER);
  for (let i = 3; i < out.data.length; i += 4) out.data[i] = 255;
  for (let k = 0; k < n; k++) {
    const top = pad + Math.floor(k / columns) * (h * scale + pad);
    const left = pad + (k % columns) * (tile + pad);
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < tile; x++) {
        const p = Math.floor(y / scale) * w + Math.floor(x / scale);
        const o = ((top + y) * canvas.width + left + x) * 4;
        for (let ch = 0; ch < 3; ch++) out.data[o + ch] = toUint8(images[(k * c + (c === 3 ? ch : 0)) * h * w + p]);
      }
    }
  }
  ctx.putImageData(out, 0, 0);
  return canvas;
}

function single(image, h, w) {
  return tiles(image, 1, h, w, 1, 0);
}

// Show `canvas` (or a data: URL already made from one) in the <img> of the Gradio image component #elemId
// (created if it has none yet).
function show(elemId, canvas) {
  const block = document.getElementById(elemId);
  if (!block) return;
  let img = block.querySelector("img:not(.vae-live-dot)");
  if (!img) {
    img = document.createElement("img");
    img.className = "vae-live-img";
    (block.querySelector(".image-container, .empty, [data-testid='image']") || block).appendChild(img);
  }
  img.src = typeof canvas === "string" ? canvas : canvas.toDataURL("image/png"); // a data: URL: no request
  img.dataset.live = "1";
}

// ------------------------------------------------------------------------------------------
// One decode at a time, the latest tick wins: a drag never queues stale frames

// One decode at a time, the latest tick wins: a drag never queues stale frames. Work done ahead of
// the user (background jobs) runs only when no tick is waiting, one small job at a time.

let running = false;
const pending = new Map(); // kind -> () => Promise
const background = []; // [kind, () => Promise], first in first out

function schedule(kind, job) {
  pending.set(kind, job);
  if (!running) drain();
}

function scheduleBackground(kind, job) {
  background.push([kind, job]);
  if (!running) drain();
}

async function drain() {
  running = true;
  while (pending.size || background.length) {
    let kind, job;
    if (pending.size) {
      [kind, job] = pending.entries().next().value;
      pending.delete(kind);
    } else {
      [kind, job] = background.shift();
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a waiting input event in first
      if (pending.size) { background.unshift([kind, job]); continue; }
    }
    try {
      await job();
    } catch (error) {
      console.error("vae-zoo live:", kind, error);
    }
  }
  running = false;
}

// ------------------------------------------------------------------------------------------
// The tabs

function lerp(a, b, t) {
  return a.map((v, i) => (1 - t) * v + t * b[i]);
}

// zoo/demo/tabs/interpolate.py _slerp: the great circle, with the norm interpolated linearly
function slerp(a, b, t) {
  const norm = (v) => Math.hypot(...v);
  const na = norm(a), nb = norm(b);
  if (na < 1e-8 || nb < 1e-8) return lerp(a, b, t);
  const cos = Math.min(1, Math.max(-1, a.reduce((s, v, i) => s + (v / na) * (b[i] / nb), 0)));
  const omega = Math.acos(cos);
  if (omega < 1e-4) return lerp(a, b, t);
  const scale = (1 - t) * na + t * nb;
  return a.map((v, i) => ((Math.sin((1 - t) * omega) * v / na + Math.sin(t * omega) * b[i] / nb) / Math.sin(omega)) * scale);
}

const TABS = {
  // Interpolate: any t, not only the precomputed frames. values: [t]
  interpolate: async (s, [t]) => {
    const z = (s.path === "spherical" ? slerp : lerp)(s.za, s.zb, t);
    const [, h, w] = CONFIG.models[s.name].input_shape;
    const image = await decode(s.name, [z], [t < 0.5 ? s.ya : s.yb]);
    show("itp-frame", single(image, h, w));
  },
  // Traverse: the sliders' values on their dimensions, the rest at μ. values: every slider's value
  traverse: async (s, values) => {
    const z = s.mean.slice();
    s.dims.forEach((d, i) => { if (Number.isFinite(Number(values[i]))) z[d] = Number(values[i]); });
    const [, h, w] = CONFIG.models[s.name].input_shape;
    show("trv-decoded", single(await decode(s.name, [z], [s.label]), h, w));
  },
  // Sample: the same draws at another temperature; a step of the slider decoded ahead is a lookup. values: [temperature]
  sample: async (s, [temperature]) => {
    const ahead = sampleAhead.state === s && sampleAhead.pictures.get(stepKey(temperature));
    show("smp-grid", ahead || await sampleGrid(s, Number(temperature)));
  },
};

// The Sample grid at temperature t: every draw of `s` scaled by t, decoded, tiled as the server does.
async function sampleGrid(s, t) {
  return gridPicture(s, await decode(s.name, codesAt(s, t), s.y));
}
const codesAt = (s, t) => s.z.map((row) => row.map((v) => v * t));
// Decoded images (Float32Array, one per draw of `s`) tiled as the server tiles the Sample grid, as a PNG data URL.
function gridPicture(s, images) {
  const [, h, w] = CONFIG.models[s.name].input_shape;
  return tiles(images, s.z.length, h, w, s.columns, PAD, 2).toDataURL("image/png");
}

// A grid is dozens of images: too much to decode within a frame on a slow machine. So once new draws
// arrive, the grid at every step of the temperature slider is decoded in the background (nearest the
// current temperature first, never ahead of a tick); a drag over decoded steps is a lookup. A typed
// value between steps is decoded when asked, as before.
const sampleAhead = { state: null, pictures: new Map(), steps: 0 }; // steps: how many grids this state will have
const stepKey = (t) => Number(t).toFixed(4);

function sliderSteps(selector) {
  const range = document.querySelector(selector);
  if (!range) return [];
  const [min, max, step] = ["min", "max", "step"].map((a) => Number(range.getAttribute(a)));
  if (!(step > 0) || !(max > min)) return [];
  return Array.from({ length: Math.round((max - min) / step) + 1 }, (_, i) => min + i * step);
}

function decodeSampleAhead(s) {
  sampleAhead.state = s;
  sampleAhead.pictures = new Map();
  if (status !== "ready" || !s || !CONFIG.models[s.name]) return;
  const current = Number(s.values?.[0] ?? 1);
  const steps = sliderSteps("#smp-temp input[type=range]").sort((a, b) => Math.abs(a - current) - Math.abs(b - current));
  sampleAhead.steps = steps.length;
  // Each grid is decoded a few images per background job, so that a tick of another control waits for one
  // chunk at most (a 64×64 grid of 64 images is about 125 ms of decoding in one go, a chunk of 8 about 16 ms).
  for (const t of steps) {
    const codes = codesAt(s, t);
    const parts = [];
    for (let start = 0; start < codes.length; start += AHEAD_CHUNK) {
      scheduleBackground("sample-ahead", async () => {
        if (sampleAhead.state !== s) return; // newer draws came: these are stale
        parts.push(await decode(s.name, codes.slice(start, start + AHEAD_CHUNK), s.y?.slice(start, start + AHEAD_CHUNK)));
        if (start + AHEAD_CHUNK < codes.length) return;
        const images = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
        parts.reduce((offset, p) => { images.set(p, offset); return offset + p.length; }, 0);
        sampleAhead.pictures.set(stepKey(t), gridPicture(s, images));
      });
    }
  }
}
const AHEAD_CHUNK = 8;

// A pointer's moves as they arrive: Chromium holds `pointermove` back to the start of the next frame
// (and measured here, most of one: 14 ms median on the latent map), `pointerrawupdate` is sent at once,
// so the picture can be ready for the frame that follows. Other browsers have only `pointermove`.
const POINTER_MOVE = "onpointerrawupdate" in window ? "pointerrawupdate" : "pointermove";

// When the user's input happened: a tick is measured from the DOM event, not from when Gradio called us.
let lastInput = null;
for (const type of ["input", POINTER_MOVE, "pointerdown"]) {
  document.addEventListener(type, (e) => { lastInput = e.timeStamp; }, { capture: true, passive: true });
}

// Record how long from the input to the pixels: written (img.src set) and painted (the next frame).
function timed(kind, started) {
  const written = performance.now() - started;
  requestAnimationFrame(() => timings.push([kind, written, performance.now() - started]));
}

// A slider changed from the keyboard (arrow keys on the range, a number typed in its box) has no
// pointer release, and its server decode and link follow the release: once the keys settle, give
// the focused control the release it would have had from a pointer (Gradio's slider listens for it).
let pointerHeld = false;
document.addEventListener("pointerdown", () => { pointerHeld = true; }, { capture: true, passive: true });
document.addEventListener("pointerup", () => { pointerHeld = false; }, { capture: true, passive: true });
const SETTLE_MS = 350;
let settleTimer = null;
function settleKeyboardInput() {
  const control = document.activeElement;
  if (pointerHeld || !control || !["range", "number"].includes(control.type)) return;
  clearTimeout(settleTimer);
  settleTimer = setTimeout(() => control.dispatchEvent(new PointerEvent("pointerup", { bubbles: true })), SETTLE_MS);
}

// A slider's own DOM input event decodes in that event's task, so the picture is written before the
// frame that follows the move is drawn. Gradio hands the same tick over later (its events cross a
// task, which cost a whole frame: 16.5 ms to the painted frame instead of 1-2 ms more than written);
// `tick` then skips it, and still takes the ticks the DOM path does not see (a number typed in a box).
// Each live slider's block (its elem_id; Gradio gives the range input an id of its own, range_id_N) and kind.
const SLIDERS = [["#itp-t", "interpolate"], ["#smp-temp", "sample"], ["[id^='trv-slider-']", "traverse"]];
const fromDom = {}; // kind -> true while a tick drawn from the DOM awaits Gradio's copy of it

function sliderKind(range) {
  return SLIDERS.find(([block]) => range.closest(block))?.[1];
}

// Every slider's value the way Gradio's event passes them (traverse: all of its sliders, in order): the
// moved one's from its range, the others' from their number boxes (a range shows -1.11 snapped to -1.1).
function sliderValues(kind, range) {
  if (kind !== "traverse") return [Number(range.value)];
  const values = (latest.traverse ?? []).slice();
  document.querySelectorAll("[id^='trv-slider-']").forEach((block) => {
    const i = Number(block.id.slice("trv-slider-".length));
    const input = block.contains(range) ? range : block.querySelector("input[type=number]") || block.querySelector("input[type=range]");
    if (Number.isInteger(i) && input && input.value !== "") values[i] = Number(input.value);
  });
  return values;
}

document.addEventListener("input", (e) => {
  const range = e.target;
  if (!(range instanceof HTMLInputElement) || range.type !== "range") return;
  const kind = sliderKind(range);
  if (kind && tick(kind, sliderValues(kind, range), false)) fromDom[kind] = true;
}, { capture: true, passive: true });

// A tick from Gradio's event (`fromGradio`), or from the slider's DOM event above.
function tick(kind, values, fromGradio = true) {
  if (fromGradio && fromDom[kind]) { // its copy of ticks already drawn (Gradio may fold several into one)
    fromDom[kind] = false;
    return true;
  }
  const started = lastInput ?? performance.now();
  settleKeyboardInput();
  latest[kind] = values;
  const s = serverState[kind];
  if (status !== "ready" || !s || !CONFIG.models[s.name] || !TABS[kind]) return false;
  schedule(kind, async () => {
    await TABS[kind](s, latest[kind]);
    timed(kind, started);
  });
  return true;
}

function update(kind, value) {
  serverState[kind] = value || null;
  if (kind === "sample") decodeSampleAhead(serverState[kind]);
  if (kind === "latent_map") return;
  // Nothing to draw yet: the server's picture already shows these values; the page takes over at the next tick.
}

// ------------------------------------------------------------------------------------------
// Latent map: the point under the pointer decoded as it moves; a click pins it

const maps = {
  pinned: null, // [name, z, label] of the last click
  // Delegated from the document: Gradio renders a tab's images only once it is shown, and replaces them on updates.
  listen() {
    const side = (e) => (e.target.closest("#map-left-img") ? "left" : "right");
    const onMap = (e) => e.target instanceof HTMLImageElement && e.target.closest("#map-left-img, #map-right-img");
    document.addEventListener(POINTER_MOVE, (e) => { if (onMap(e)) this.hover(side(e), e, false); });
    document.addEventListener("click", (e) => { if (onMap(e)) this.hover(side(e), e, true); });
    document.addEventListener("pointerout", (e) => {
      if (onMap(e) && !onMap({ target: e.relatedTarget || document.body }) && this.pinned) {
        schedule("latent_map", () => this.decode(...this.pinned));
      }
    });
  },
  // pointer position -> the map picture's own pixels (the <img> is scaled, and letterboxed by object-fit: contain)
  pixel(img, event) {
    const rect = img.getBoundingClientRect();
    const scale = Math.min(rect.width / img.naturalWidth, rect.height / img.naturalHeight);
    const x = (event.clientX - rect.left - (rect.width - img.naturalWidth * scale) / 2) / scale;
    const y = (event.clientY - rect.top - (rect.height - img.naturalHeight * scale) / 2) / scale;
    return [x, y];
  },
  // zoo/demo/plots.py MapFrame.to_latent and zoo/demo/tabs/latent_map.py decode_point, in the page
  code(m, px, py) {
    const f = m.frame;
    if (px < f.left || px > f.left + f.side || py < f.top || py > f.top + f.side) return null;
    const u = f.lo + ((px - f.left) / f.side) * (f.hi - f.lo);
    const v = f.hi - ((py - f.top) / f.side) * (f.hi - f.lo);
    const z = m.center.map((c, i) => c + m.basis[i][0] * u + m.basis[i][1] * v);
    let label = null;
    if (m.labels) { // a conditional model is told the class of the nearest example
      let best = Infinity;
      m.points.forEach(([a, b], i) => { const d = (a - u) ** 2 + (b - v) ** 2; if (d < best) { best = d; label = m.labels[i]; } });
    }
    return [z, label];
  },
  hover(side, event, pin) {
    const m = serverState.latent_map?.[side];
    const img = event.target;
    if (!m || !img.naturalWidth) return;
    const found = this.code(m, ...this.pixel(img, event));
    if (!found) return;
    if (pin) this.pinned = [m.name, ...found];
    const started = event.timeStamp;
    schedule("latent_map", async () => {
      await this.decode(m.name, ...found);
      timed("latent_map", started);
    });
  },
  async decode(name, z, label) {
    if (status !== "ready" || !CONFIG.models[name]) return;
    const [, h, w] = CONFIG.models[name].input_shape;
    show("map-decoded", single(await decode(name, [z], [label]), h, w));
  },
};

// ------------------------------------------------------------------------------------------
// Draw and watch: each stroke on the pad is encoded by both maps' models; their reconstructions
// update and their codes move as a dot on each map (through the map's own plane: PCA for large codes)

const STROKE = 18; // the pen's width, in the pad's pixels

const draw = {
  pad: null,
  ink: null, // [left, top, right, bottom]: where strokes may have left ink (each segment's box, widened by the pen)
  small: new Map(), // "h×w" -> the canvas a drawing is scaled into (one per input size, reused)
  inked(a, b) {
    const r = STROKE / 2 + 2; // a round cap's radius and its anti-aliased edge
    const [x0, x1] = [Math.min(a[0], b[0]) - r, Math.max(a[0], b[0]) + r], [y0, y1] = [Math.min(a[1], b[1]) - r, Math.max(a[1], b[1]) + r];
    const box = this.ink ?? [x0, y0, x1, y1];
    this.ink = [Math.min(box[0], x0), Math.min(box[1], y0), Math.max(box[2], x1), Math.max(box[3], y1)].map(Math.round);
  },
  setup() {
    const host = document.getElementById("map-draw");
    if (!host || this.pad) return;
    const pad = document.createElement("canvas");
    pad.width = pad.height = 280;
    pad.id = "map-draw-pad";
    pad.style.cssText = "background:#000;touch-action:none;cursor:crosshair;border:1px solid #888";
    const ctx = pad.getContext("2d", { willReadFrequently: true }); // read every tick: keep it in memory, not on the GPU
    const clear = () => { ctx.fillStyle = "#000"; ctx.fillRect(0, 0, pad.width, pad.height); this.ink = null; };
    clear();
    let last = null;
    const at = (e) => { const r = pad.getBoundingClientRect(); return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height]; };
    pad.addEventListener("pointerdown", (e) => { last = at(e); pad.setPointerCapture(e.pointerId); });
    pad.addEventListener(POINTER_MOVE, (e) => {
      if (!last) return;
      const next = at(e);
      ctx.strokeStyle = "#fff"; ctx.lineWidth = STROKE; ctx.lineCap = "round";
      ctx.beginPath(); ctx.moveTo(...last); ctx.lineTo(...next); ctx.stroke();
      this.inked(last, next);
      last = next;
      this.watch(false);
    });
    pad.addEventListener("pointerup", () => { last = null; this.watch(true); });
    const button = document.createElement("button");
    button.textContent = "clear";
    button.id = "map-draw-clear";
    button.addEventListener("click", () => { clear(); this.guess = {}; document.querySelectorAll(".vae-live-dot").forEach((d) => d.remove()); });
    const row = document.createElement("div");
    row.style.cssText = "display:flex;gap:12px;align-items:center;flex-wrap:wrap";
    row.append(pad, button);
    for (const side of ["left", "right"]) {
      const out = document.createElement("div");
      out.id = `map-draw-${side}`;
      out.style.cssText = "width:112px;height:112px;image-rendering:pixelated";
      row.append(out);
    }
    host.append(row);
    this.pad = pad;
  },
  // zoo/demo/images.py prepare(), for strokes already light on black: crop to the ink, scale its
  // longer side to the dataset's box, centre it (MNIST: by centre of mass). null while empty.
  pixels(model) {
    const [, h, w] = model.input_shape;
    // Only the part of the pad the strokes reached is read and searched for ink (above 0.15, as prepare() does).
    const ink = this.ink ?? [0, 0, this.pad.width, this.pad.height];
    const [l, t, r, b] = [Math.max(0, ink[0]), Math.max(0, ink[1]), Math.min(this.pad.width, ink[2]), Math.min(this.pad.height, ink[3])];
    if (r <= l || b <= t) return null;
    const src = this.pad.getContext("2d", { willReadFrequently: true }).getImageData(l, t, r - l, b - t);
    let top = Infinity, left = Infinity, bottom = -1, right = -1;
    for (let y = 0; y < src.height; y++) for (let x = 0; x < src.width; x++) {
      if (src.data[(y * src.width + x) * 4] > 0.15 * 255) { top = Math.min(top, t + y); bottom = Math.max(bottom, t + y); left = Math.min(left, l + x); right = Math.max(right, l + x); }
    }
    if (bottom < 0) return null;
    const bh = bottom - top + 1, bw = right - left + 1;
    const scale = model.framing.box / Math.max(bh, bw);
    const nh = Math.max(1, Math.round(bh * scale)), nw = Math.max(1, Math.round(bw * scale));
    const size = `${h}×${w}`;
    if (!this.small.has(size)) this.small.set(size, Object.assign(document.createElement("canvas"), { width: w, height: h }));
    const ctx = this.small.get(size).getContext("2d", { willReadFrequently: true });
    ctx.clearRect(0, 0, w, h);
    ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
    const y0 = Math.floor((h - nh) / 2), x0 = Math.floor((w - nw) / 2);
    ctx.drawImage(this.pad, left, top, bw, bh, x0, y0, nw, nh);
    const data = ctx.getImageData(0, 0, w, h).data;
    let out = new Float32Array(h * w);
    let mass = 0, my = 0, mx = 0;
    for (let i = 0; i < h * w; i++) { const v = data[i * 4] / 255; out[i] = v; mass += v; my += Math.floor(i / w) * v; mx += (i % w) * v; }
    if (model.framing.centring === "mass" && mass > 0) {
      const clip = (d, lo, hi) => Math.min(hi, Math.max(lo, d));
      const dy = clip(Math.round((h - 1) / 2 - my / mass), -y0, h - y0 - nh), dx = clip(Math.round((w - 1) / 2 - mx / mass), -x0, w - x0 - nw);
      const moved = new Float32Array(h * w);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) moved[((y + dy + h) % h) * w + ((x + dx + w) % w)] = out[y * w + x];
      out = moved;
    }
    const channels = model.input_shape[0];  // a colour model reads the drawing grey in every channel (images.as_input)
    if (channels > 1) { const painted = new Float32Array(channels * h * w); for (let ch = 0; ch < channels; ch++) painted.set(out, ch * h * w); out = painted; }
    return out;
  },
  // A conditional model's label, per side, from the last full search: reused while a stroke goes on.
  guess: {},
  // `final`: the stroke ended, so a conditional model searches every label again (as the server would).
  watch(final = true) {
    const started = lastInput ?? performance.now();
    schedule("draw", async () => {
      const inputs = new Map(); // the pad read once per input shape and framing (both maps share a dataset)
      const shown = [];
      for (const side of ["left", "right"]) {
        const m = serverState.latent_map?.[side];
        const model = m && CONFIG.models[m.name];
        if (status !== "ready" || !model) continue;
        const key = JSON.stringify([model.input_shape, model.framing]);
        if (!inputs.has(key)) inputs.set(key, this.pixels(model));
        const x = inputs.get(key);
        if (!x) continue;
        const [, h, w] = model.input_shape;
        const guess = !final && this.guess[side]?.name === m.name ? this.guess[side].label : null;
        const code = await this.bestCode(m.name, model, x, guess);
        this.guess[side] = { name: m.name, label: code.label };
        shown.push([side, m, code.mean, tiles(await decode(m.name, [code.mean], [code.label]), 1, h, w, 1, 0, 1)]);
      }
      // The page is read (where each map sits) before it is written, so the browser lays it out once, not per map.
      const dots = shown.map(([side, m, z]) => this.dotAt(side, m, z));
      shown.forEach(([side, , , canvas], i) => { this.paint(side, canvas); this.place(side, dots[i]); });
      timed("draw", started);
    });
  },
  // The reconstruction as a canvas of its own pixels in the pad's row, enlarged by CSS: no PNG to encode per tick.
  paint(side, canvas) {
    const out = document.getElementById(`map-draw-${side}`);
    if (!out) return;
    canvas.className = "vae-live-draw";
    canvas.style.cssText = "width:100%;height:100%;image-rendering:pixelated";
    out.replaceChildren(canvas);
  },
  // A conditional model is given the label with the lowest −ELBO (zoo/demo/view.py best_label), one encode and
  // decode per label (62 for glyphs: too slow for every tick); during a stroke, `guess` (the label of the last
  // search) is encoded alone. Others encode once.
  async bestCode(name, model, x, guess = null) {
    if (!model.conditional) return { mean: (await encode(name, x, 1, null)).mean[0], label: null };
    if (guess !== null) return { mean: (await encode(name, x, 1, [guess])).mean[0], label: guess };
    const k = model.num_classes, labels = [...Array(k).keys()];
    const batch = new Float32Array(k * x.length);
    for (let i = 0; i < k; i++) batch.set(x, i * x.length);
    const { mean, std } = await encode(name, batch, k, labels);
    const recon = await decode(name, mean, labels);
    let best = 0, bestLoss = Infinity;
    for (let i = 0; i < k; i++) {
      let loss = 0;
      for (let j = 0; j < x.length; j++) {
        const p = Math.min(1 - 1e-6, Math.max(1e-6, recon[i * x.length + j]));
        loss -= x[j] * Math.log(p) + (1 - x[j]) * Math.log(1 - p);
      }
      mean[i].forEach((mu, d) => { const v = std[i][d] ** 2; loss += 0.5 * (v + mu * mu - Math.log(v) - 1); });
      if (loss < bestLoss) { bestLoss = loss; best = i; }
    }
    return { mean: mean[best], label: best };
  },
  // Where the code sits on the map, in page coordinates: into the map's plane ((z − center) · basis), then
  // MapFrame.to_pixel, then through the <img>'s letterboxed scaling. null while the map is not shown.
  dotAt(side, m, z) {
    const img = document.querySelector(`#map-${side}-img img`);
    if (!img || !img.naturalWidth) return null;
    const d = z.map((v, i) => v - m.center[i]);
    const u = d.reduce((s, v, i) => s + v * m.basis[i][0], 0), v = d.reduce((s, x, i) => s + x * m.basis[i][1], 0);
    const f = m.frame;
    const px = f.left + ((u - f.lo) / (f.hi - f.lo)) * f.side, py = f.top + ((f.hi - v) / (f.hi - f.lo)) * f.side;
    const rect = img.getBoundingClientRect();
    const scale = Math.min(rect.width / img.naturalWidth, rect.height / img.naturalHeight);
    return [window.scrollX + rect.left + (rect.width - img.naturalWidth * scale) / 2 + px * scale,
      window.scrollY + rect.top + (rect.height - img.naturalHeight * scale) / 2 + py * scale];
  },
  // The code's dot at `at` (from dotAt), created on first use.
  place(side, at) {
    if (!at) return;
    let dot = document.getElementById(`map-${side}-dot`);
    if (!dot) {
      dot = document.createElement("div");
      dot.id = `map-${side}-dot`;
      dot.className = "vae-live-dot";
      dot.style.cssText = "position:absolute;width:14px;height:14px;margin:-7px 0 0 -7px;border-radius:50%;background:#e11;border:2px solid #fff;pointer-events:none;z-index:10";
      document.body.append(dot);
    }
    dot.style.left = `${at[0]}px`;
    dot.style.top = `${at[1]}px`;
  },
};

// ------------------------------------------------------------------------------------------
// Start

let message = null; // the status line's text; kept, since Gradio may render the line after (or again)

function say(text) {
  message = text ?? message;
  const block = document.getElementById("live-status");
  const line = block && (block.querySelector(".prose, .md") || block);
  if (line && message && line.textContent !== message) line.textContent = message;
}

async function start() {
  const names = Object.keys(CONFIG.models || {});
  if (!CONFIG.runtime || !names.length) {
    status = "failed";
    say("Decoding on the server: no model of this app has an ONNX export.");
    return;
  }
  try {
    await loadRuntime();
    status = "ready";
    if (serverState.sample) decodeSampleAhead(serverState.sample); // draws that came while the runtime loaded
    const where = CONFIG.runtime.source === "local" ? "served by this app" : "from a CDN";
    say(`Live: ${names.length} models decode in your browser (onnxruntime-web ${CONFIG.runtime.version}, ${where}); sliders and the latent map make no request.`);
  } catch (error) {
    status = "failed";
    console.error("vae-zoo live:", error);
    say(`Decoding on the server: the in-page runtime could not load (${error.message || error}); pictures update when you let go of a slider.`);
  }
}

maps.listen();
// The pad is built when the Latent map tab's placeholder appears (Gradio renders a tab when it is first shown),
// and the status line is kept as live.js wrote it.
new MutationObserver(() => {
  if (!document.getElementById("map-draw-pad")) { draw.pad = null; draw.setup(); }
  say();
})
  .observe(document.body, { childList: true, subtree: true });

window.vaeZooLive = {
  update,
  tick,
  get status() { return status; },
  sampleAhead, // the Sample grids decoded ahead, by temperature step (for tests and bench/live.py)
  state: serverState,
  timings,
  // Load every model's sessions now (the tests and the benchmark wait for this before counting requests).
  preload: () => Promise.all(Object.keys(CONFIG.models).flatMap((n) => [session(n, "decoder"), session(n, "encoder")])),
  decode: (name, codes, labels) => decode(name, codes, labels),
  draw,
  encode: (name, pixels, batch, labels) => encode(name, pixels, batch, labels),
  // The runtime loads once the page is idle: its first events (every tab runs once) come first.
  ready: new Promise((resolve) => (window.requestIdleCallback || setTimeout)(resolve, { timeout: 2000 })).then(start),
};
