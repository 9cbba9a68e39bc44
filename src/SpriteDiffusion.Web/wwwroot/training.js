// The training panel: any run under runs/, watched through the files its trainer writes.
import { duration, getJson } from './api.js';
import { drawLosses } from './chart.js';

const $ = (id) => document.getElementById(id);
const select = $('run');
let visible = false;
let shownImages = '';
let timer = null;

function describe(run) {
  const epochs = run.epochsTotal ? `epoch ${run.epochsDone} of ${run.epochsTotal}` : `${run.epochsDone} epochs`;
  const best = run.bestValidation == null ? '' : ` · best validation loss ${run.bestValidation.toFixed(4)}`;
  switch (run.status) {
    case 'running':
      return `Running: ${epochs}` + (run.etaSeconds == null ? ' · time left known after the first epoch' : ` · about ${duration(run.etaSeconds)} left`) + best;
    case 'finished': return `Finished: ${run.epochsDone} epochs${best}`;
    case 'interrupted': return `Interrupted at ${epochs}; sprites train --resume continues it${best}`;
    case 'stopped': return `Not running (no update for a while): ${epochs}${best}`;
    default: return 'Nothing trained yet.';
  }
}

async function refreshList() {
  const answer = await getJson('/api/runs');
  const current = select.value;
  select.replaceChildren(...answer.runs.map((r) => new Option(`${r.name} (${r.status})`, r.name)));
  if (answer.runs.length === 0) {
    $('run-status').textContent = `No runs under ${answer.folder}/ yet: start one with sprites train.`;
    return;
  }
  const running = answer.runs.find((r) => r.status === 'running');
  select.value = answer.runs.some((r) => r.name === current) ? current : (running ?? answer.runs[0]).name;
}

function showImages(images) {
  const key = images.map((i) => i.url).join('|');
  if (key === shownImages) return;
  shownImages = key;
  $('run-images').replaceChildren(...images.map((image) => {
    const figure = document.createElement('figure');
    const img = new Image();
    img.src = image.url;
    img.alt = image.name;
    const caption = document.createElement('figcaption');
    caption.textContent = `${image.name} · ${new Date(image.modified).toLocaleTimeString()}`;
    figure.append(img, caption);
    return figure;
  }));
}

async function refreshRun() {
  if (!select.value) return;
  try {
    const detail = await getJson(`/api/runs/${encodeURIComponent(select.value)}`);
    const run = detail.run;
    $('run-status').textContent = describe(run);
    $('run-progress').value = run.progress;
    const use = $('run-use');
    use.hidden = !run.model;
    use.dataset.model = run.model ?? '';
    drawLosses($('loss-chart'), detail.losses);
    showImages(detail.images);
    $('run-log').textContent = detail.log.join('\n');
  } catch (e) {
    $('run-status').textContent = e.message;
  }
}

async function tick() {
  if (!visible) return;
  try {
    await refreshList();
    await refreshRun();
  } finally {
    // The trainer writes once an epoch, so every few seconds is live enough and costs nothing.
    timer = setTimeout(tick, 3000);
  }
}

export function initTraining({ onUseModel }) {
  select.addEventListener('change', () => { shownImages = ''; refreshRun(); });
  $('run-use').addEventListener('click', (e) => onUseModel(e.target.dataset.model));
  document.addEventListener('tabchange', (e) => {
    visible = e.detail === 'training';
    clearTimeout(timer);
    if (visible) tick();
  });
}
