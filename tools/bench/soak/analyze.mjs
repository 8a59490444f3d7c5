// Slopes and plateau verdicts for tools/bench/bench-soak.sh (the rule is stated in its header).
//   node analyze.mjs SAMPLES.jsonl WARMUP_FRACTION PLATEAU_FRACTION
// (SAMPLES may be a saved bench-soak.sh output: re-judge a run without running it again.)
// Prints one JSON line per series and a summary. Exit 0 when every series plateaus, 1 when one
// grows, 3 when a series has too few post-warm-up samples to judge, 4 when a gauge is missing
// from /metrics (the script decides what that means: smoke mode only reports it).
import fs from 'node:fs';

const [file, warmArg, fracArg] = process.argv.slice(2);
const WARM = Number(warmArg ?? '0.333');
const FRAC = Number(fracArg ?? '0.10');
const SERIES = ['rss_bytes', 'fds', 'store_bytes', 'queued_messages', 'user_agents',
                'receipt_subscriptions'];

// Also reads a saved run's whole output: only the sample lines count.
const samples = fs.readFileSync(file, 'utf8').split('\n')
  .filter((l) => l.startsWith('{"bench":"soak_sample"')).map((l) => JSON.parse(l));
const tEnd = samples.length ? samples[samples.length - 1].t_s : 0;
const post = samples.filter((s) => s.t_s >= WARM * tEnd);

let grows = [];
let tooFew = [];
let missing = [];
for (const name of SERIES) {
  const pts = post.filter((s) => typeof s[name] === 'number').map((s) => [s.t_s, s[name]]);
  const all = samples.filter((s) => typeof s[name] === 'number');
  if (all.length === 0) { missing.push(name); console.log(JSON.stringify({ series: name, missing: true })); continue; }
  if (pts.length < 3) { tooFew.push(name); continue; }
  const n = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / n;
  const my = pts.reduce((a, p) => a + p[1], 0) / n;
  let sxy = 0, sxx = 0;
  for (const [x, y] of pts) { sxy += (x - mx) * (y - my); sxx += (x - mx) ** 2; }
  const slope = sxx > 0 ? sxy / sxx : 0; // per second
  const window = pts[n - 1][0] - pts[0][0];
  const growth = slope * window;
  // Upper envelope: the peak of the window's second half against the peak of its first half,
  // doubled to project it over the whole window. RocksDB's memtable fills for minutes and
  // then flushes (RSS and store size drop by tens of MB), and a fitted line through such a
  // sawtooth tilts with the phase at which the run ends; the peaks do not.
  const mid = pts[0][0] + window / 2;
  const max1 = Math.max(...pts.filter((p) => p[0] < mid).map((p) => p[1]));
  const max2 = Math.max(...pts.filter((p) => p[0] >= mid).map((p) => p[1]));
  const envGrowth = 2 * (max2 - max1);
  const lineOk = growth <= FRAC * Math.abs(my) || (my === 0 && slope <= 0);
  const envOk = envGrowth <= FRAC * Math.abs(my) || (my === 0 && envGrowth <= 0);
  const plateau = lineOk || envOk;
  if (!plateau) grows.push(name);
  console.log(JSON.stringify({
    series: name, start: all[0][name], warm_end: pts[0][1], end: all[all.length - 1][name],
    post_warmup_mean: Math.round(my), slope_per_hour: Math.round(slope * 3600),
    growth_over_window: Math.round(growth), window_s: Math.round(window),
    growth_fraction_of_mean: my ? Number((growth / Math.abs(my)).toFixed(4)) : null,
    envelope_growth: Math.round(envGrowth),
    envelope_fraction_of_mean: my ? Number((envGrowth / Math.abs(my)).toFixed(4)) : null,
    plateau, by: lineOk ? 'line' : envOk ? 'envelope' : 'none',
  }));
}
console.log(JSON.stringify({ bench: 'soak_verdict', samples: samples.length,
  post_warmup_samples: post.length, warmup_fraction: WARM, plateau_fraction: FRAC,
  growing: grows, too_few_samples: tooFew, missing }));
process.exit(grows.length ? 1 : tooFew.length ? 3 : missing.length ? 4 : 0);
