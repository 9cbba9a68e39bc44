// The generate panel: the form, the live grid that sharpens as the steps stream in, and the
// downloads of a finished batch.
import { ApiError, duration, getJson, postEvents } from './api.js';
import { initDetail } from './detail.js';

const $ = (id) => document.getElementById(id);
const form = {
  model: $('model'), cls: $('class'), guidance: $('guidance'), method: $('method'),
  steps: $('steps'), seed: $('seed'), count: $('count'),
};
const grid = $('grid');
const status = $('status');
const progress = $('progress');
const errorBox = $('error');
const defaultSteps = { ddim: 50, 'dpm++2m': 20 };

let models = [];
let limits = null;
let running = null;
let result = null;
const detail = initDetail({ onUseSeed: (seed) => { form.seed.value = seed; form.count.value = 1; } });

function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

function showError(message, field) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
  for (const input of Object.values(form)) input.removeAttribute('aria-invalid');
  const invalid = field && form[field === 'class' ? 'cls' : field];
  if (invalid) invalid.setAttribute('aria-invalid', 'true');
}

function currentModel() {
  return models.find((m) => m.id === form.model.value);
}

function modelChanged() {
  const m = currentModel();
  const previous = form.cls.value;
  form.cls.replaceChildren(new Option('any (unconditional)', ''));
  if (!m) return;
  for (const name of m.classes) form.cls.append(new Option(name, name));
  if (m.classes.includes(previous)) form.cls.value = previous;
  form.cls.disabled = !m.conditional;
  const kind = m.channels === 4 ? 'RGBA' : 'RGB';
  $('model-info').textContent = `${kind} ${m.size}x${m.size}, n_feat ${m.nFeat}, ` +
    (m.conditional ? `${m.classes.length} classes` : 'unconditional') + (m.epoch ? `, epoch ${m.epoch}` : '');
  methodChanged();
  classChanged();
}

function classChanged() {
  const m = currentModel();
  form.guidance.disabled = !form.cls.value || !m?.guidance;
}

function methodChanged() {
  const m = currentModel();
  const ddpm = form.method.value === 'ddpm';
  form.steps.disabled = ddpm;
  form.steps.value = ddpm ? (m?.timesteps ?? 1000) : defaultSteps[form.method.value];
}

export function selectModel(id) {
  if (!models.some((m) => m.id === id)) return;
  form.model.value = id;
  modelChanged();
}

async function loadModels() {
  const answer = await getJson('/api/models');
  models = answer.models;
  limits = answer.limits;
  const selected = form.model.value;
  form.model.replaceChildren(...models.map((m) => new Option(m.name, m.id)));
  if (models.some((m) => m.id === selected)) form.model.value = selected;
  form.count.max = limits.maxCount;
  form.steps.max = limits.maxSteps;
  form.seed.max = answer.maxSeed;
  if (models.length === 0) {
    setStatus('No model yet: the bundled model is missing and no run under runs/ has a best.safetensors.', 'error');
    $('generate').disabled = true;
  }
  modelChanged();
}

function request() {
  const body = { model: form.model.value, method: form.method.value, seed: Number(form.seed.value), count: Number(form.count.value) };
  if (!form.steps.disabled) body.steps = Number(form.steps.value);
  if (form.cls.value) {
    body.class = form.cls.value;
    if (!form.guidance.disabled) body.guidance = Number(form.guidance.value);
  }
  return body;
}

function layout(count, size) {
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const cell = Math.max(40, Math.min(96, Math.floor(560 / columns / size) * size));
  grid.style.setProperty('--columns', columns);
  grid.style.setProperty('--cell', `${cell}px`);
  const cells = [];
  for (let i = 0; i < count; i++) {
    const cellButton = document.createElement('button');
    cellButton.type = 'button';
    cellButton.className = 'cell';
    cellButton.dataset.index = i;
    cellButton.setAttribute('aria-pressed', 'false');
    cellButton.setAttribute('aria-label', `sprite ${i + 1}`);
    const canvas = document.createElement('canvas');
    canvas.width = size;
    canvas.height = size;
    cellButton.append(canvas);
    cells.push(cellButton);
  }
  grid.replaceChildren(...cells);
  return cells;
}

function drawFrame(cells, frame, size) {
  const bytes = Uint8ClampedArray.from(atob(frame), (c) => c.charCodeAt(0));
  const per = size * size * 4;
  cells.forEach((cell, i) => {
    const canvas = cell.firstChild;
    if (canvas instanceof HTMLCanvasElement) {
      canvas.getContext('2d').putImageData(new ImageData(bytes.slice(i * per, (i + 1) * per), size, size), 0, 0);
    }
  });
}

function finish(cells, done) {
  result = done;
  done.sprites.forEach((sprite, i) => {
    const img = new Image(done.size, done.size);
    img.src = sprite.url;
    img.alt = `sprite ${i + 1}, seed ${sprite.seed}`;
    img.decode().catch(() => {}).finally(() => cells[i].replaceChildren(img));
    cells[i].dataset.seed = sprite.seed;
    cells[i].setAttribute('aria-label', `sprite ${i + 1}, seed ${sprite.seed}`);
  });
  $('batch').hidden = false;
  batchLinks();
}

function batchLinks() {
  if (!result) return;
  const scale = $('batch-scale').value;
  const atlas = $('atlas').value;
  const stem = `sprites-seed${result.sprites[0].seed}-${result.count}`;
  const set = (id, url, name) => { $(id).href = url; $(id).download = name; };
  set('dl-grid', `${result.grid}?scale=${Math.max(4, scale)}&download=1`, `${stem}-grid.png`);
  set('dl-sheet', `${result.sheet}?scale=${scale}&download=1`, `${stem}-sheet.png`);
  set('dl-atlas', `${result.atlas}?scale=${scale}&atlas=${atlas}&download=1`, `${stem}-sheet.json`);
  set('dl-zip', `${result.zip}?scale=${scale}&atlas=${atlas}`, `${stem}.zip`);
}

async function generate(event) {
  event.preventDefault();
  if (running) return;
  showError('');
  detail.hide();
  result = null;
  $('batch').hidden = true;
  const controller = new AbortController();
  running = controller;
  $('generate').disabled = true;
  $('stop').disabled = false;
  progress.value = 0;
  setStatus('Sending…', 'sending');
  let cells = [];
  let size = 16;
  try {
    await postEvents('/api/generate', request(), controller.signal, (name, data) => {
      if (name === 'queued') {
        setStatus(`Waiting for a turn: number ${data.position} in line (${data.running} running).`, 'queued');
      } else if (name === 'started') {
        size = data.size;
        cells = layout(data.count, data.size);
        progress.max = data.steps;
        setStatus(`Starting ${data.method}, ${data.steps} steps…`, 'running');
      } else if (name === 'step') {
        progress.value = data.done;
        const left = data.remainingMs == null ? '' : ` · ${duration(data.remainingMs / 1000)} left`;
        setStatus(`Step ${data.done} of ${data.total}${left}`, 'running');
        if (data.frame) drawFrame(cells, data.frame, size);
      } else if (name === 'done') {
        finish(cells, data);
        setStatus(`${data.count} sprites in ${data.seconds} s. Click one to download it or copy its seed.`, 'done');
      } else if (name === 'error') {
        throw new ApiError(data.error, 500, null);
      }
    });
    if (status.dataset.state !== 'done') setStatus('The stream ended early; try again.', 'error');
  } catch (e) {
    if (controller.signal.aborted) {
      setStatus('Stopped.', 'stopped');
    } else {
      setStatus(e.status === 429 ? 'Busy.' : 'Failed.', 'error');
      showError(e.message, e.field);
    }
  } finally {
    running = null;
    $('generate').disabled = models.length === 0;
    $('stop').disabled = true;
  }
}

export async function initGenerate() {
  $('form').addEventListener('submit', generate);
  $('stop').addEventListener('click', () => running?.abort());
  $('random-seed').addEventListener('click', () => { form.seed.value = Math.floor(Math.random() * 2 ** 32); });
  form.model.addEventListener('change', modelChanged);
  form.cls.addEventListener('change', classChanged);
  form.method.addEventListener('change', methodChanged);
  $('batch-scale').addEventListener('change', batchLinks);
  $('atlas').addEventListener('change', batchLinks);
  grid.addEventListener('click', (event) => {
    const cell = event.target.closest('.cell');
    if (!cell || !result) return;
    for (const c of grid.children) c.setAttribute('aria-pressed', String(c === cell));
    detail.show(result.sprites[Number(cell.dataset.index)], result.method);
  });
  // Leaving the page aborts the stream, and the server then stops the work.
  window.addEventListener('pagehide', () => running?.abort());
  try {
    await loadModels();
  } catch (e) {
    setStatus('Could not list the models.', 'error');
    showError(e.message);
  }
  return { selectModel };
}
