// The chosen sprite: a large view, its seed, a PNG download at a chosen scale.
const $ = (id) => document.getElementById(id);

export function initDetail({ onUseSeed }) {
  const panel = $('detail');
  const scale = $('detail-scale');
  const note = $('detail-note');
  let sprite = null;
  let exact = true;

  function links() {
    if (!sprite) return;
    const link = $('detail-download');
    link.href = `${sprite.url}?scale=${scale.value}&download=1`;
    link.download = `${sprite.name}.png`;
  }

  scale.addEventListener('change', links);
  $('detail-copy').addEventListener('click', async () => {
    if (!sprite) return;
    try {
      await navigator.clipboard.writeText(String(sprite.seed));
      note.textContent = `Seed ${sprite.seed} copied.`;
    } catch {
      note.textContent = `Copy this seed by hand: ${sprite.seed}`;
    }
  });
  $('detail-use').addEventListener('click', () => {
    if (!sprite) return;
    onUseSeed(sprite.seed);
    note.textContent = exact
      ? `Seed ${sprite.seed} is in the form (count 1): Generate draws this sprite again.`
      : `Seed ${sprite.seed} is in the form (count 1). DDPM adds new noise at every step, so only the first sprite of a batch comes back exactly.`;
  });

  return {
    show(chosen, method) {
      sprite = chosen;
      exact = method !== 'ddpm';
      $('detail-img').src = chosen.url;
      $('detail-seed').textContent = chosen.seed;
      $('detail-name').textContent = chosen.name;
      note.textContent = '\u00a0';
      links();
      panel.hidden = false;
    },
    hide() {
      sprite = null;
      panel.hidden = true;
    },
  };
}
