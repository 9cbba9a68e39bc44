// Loss curves on a canvas: train, validation and the weight average's validation, per epoch.
const series = [
  { key: 'train', label: 'train', color: '#3d8bf5' },
  { key: 'validation', label: 'validation', color: '#f5b83d' },
  { key: 'validationEma', label: 'validation (EMA)', color: '#5fd38d' },
];

export function drawLosses(canvas, rows) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width;
  const height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  g.font = '12px system-ui, sans-serif';
  g.fillStyle = '#9aa1b5';
  if (rows.length === 0) {
    g.fillText('No epoch finished yet: losses appear after the first one.', 16, 28);
    return;
  }
  const values = rows.flatMap((r) => series.map((s) => r[s.key]).filter((v) => v != null));
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (hi - lo < 1e-9) { hi += 0.01; lo -= 0.01; }
  const pad = { left: 56, right: 16, top: 28, bottom: 30 };
  const first = rows[0].epoch;
  const last = Math.max(rows[rows.length - 1].epoch, first + 1);
  const x = (epoch) => pad.left + ((epoch - first) / (last - first)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - lo) / (hi - lo)) * (height - pad.top - pad.bottom);

  g.strokeStyle = '#30364a';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    g.beginPath();
    g.moveTo(pad.left, y(v));
    g.lineTo(width - pad.right, y(v));
    g.stroke();
    g.fillText(v.toFixed(4), 6, y(v) + 4);
  }
  g.fillText(`epoch ${first}`, pad.left, height - 10);
  const lastLabel = `epoch ${rows[rows.length - 1].epoch}`;
  g.fillText(lastLabel, width - pad.right - g.measureText(lastLabel).width, height - 10);

  let legendX = pad.left;
  for (const s of series) {
    const points = rows.filter((r) => r[s.key] != null);
    if (points.length === 0) continue;
    g.strokeStyle = s.color;
    g.fillStyle = s.color;
    g.lineWidth = 2;
    g.beginPath();
    points.forEach((r, i) => (i === 0 ? g.moveTo(x(r.epoch), y(r[s.key])) : g.lineTo(x(r.epoch), y(r[s.key]))));
    g.stroke();
    if (points.length === 1) g.fillRect(x(points[0].epoch) - 2, y(points[0][s.key]) - 2, 4, 4);
    g.fillRect(legendX, 10, 14, 3);
    g.fillStyle = '#e6e8ef';
    g.fillText(s.label, legendX + 18, 15);
    legendX += g.measureText(s.label).width + 40;
  }
}
