// The page's entry point: tabs, the queue indicator, and the two panels.
import { getJson } from './api.js';
import { initGenerate } from './generate.js';
import { initTraining } from './training.js';

const tabs = {
  generate: { tab: document.getElementById('tab-generate'), panel: document.getElementById('panel-generate') },
  training: { tab: document.getElementById('tab-training'), panel: document.getElementById('panel-training') },
};

function show(name) {
  for (const [key, { tab, panel }] of Object.entries(tabs)) {
    tab.setAttribute('aria-selected', String(key === name));
    panel.hidden = key !== name;
  }
  document.dispatchEvent(new CustomEvent('tabchange', { detail: name }));
}

for (const [key, { tab }] of Object.entries(tabs)) tab.addEventListener('click', () => show(key));

// The queue is shared by everyone using this server, so it is polled rather than pushed.
async function pollQueue() {
  const el = document.getElementById('queue');
  try {
    const q = await getJson('/api/queue');
    const busy = q.running + q.waiting;
    el.textContent = busy === 0 ? `Idle · ${q.slots} at a time, ${q.maxWaiting} may wait`
      : `${q.running} running · ${q.waiting} waiting (of ${q.maxWaiting})`;
    el.classList.toggle('busy', busy > 0);
  } catch {
    el.textContent = 'Server not answering';
    el.classList.add('busy');
  }
}

const generate = await initGenerate();
initTraining({ onUseModel: (id) => { generate.selectModel(id); show('generate'); } });
pollQueue();
setInterval(pollQueue, 2000);
