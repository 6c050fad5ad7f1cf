#!/usr/bin/env node
// Summarises V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by package/file.
// usage: node bench/profile-summary.mjs <file.cpuprofile|dir> [--top N]
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 25;
const files = args.flatMap((a) =>
  fs.statSync(a).isDirectory() ? fs.readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(a, f)) : [a],
);
if (!files.length) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile|dir> [--top N]');
  process.exit(2);
}

function where(url) {
  if (!url) return '(native/v8)';
  if (url.startsWith('node:')) return url;
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const m = url.match(/\/(control-plane|data-agent|cli|proto)\/dist\/(.*)$/);
  return m ? `${m[1]}/${m[2]}` : url.replace(/^file:\/\//, '');
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const dt = new Map();
  const samples = prof.samples ?? [];
  const deltas = prof.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) dt.set(samples[i], (dt.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  let total = 0;
  const byFn = new Map();
  const byWhere = new Map();
  for (const [id, us] of dt) {
    const n = byId.get(id);
    const cf = n.callFrame;
    total += us;
    const fnKey = `${cf.functionName || '(anonymous)'}  ${where(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    byFn.set(fnKey, (byFn.get(fnKey) ?? 0) + us);
    const w = ['(idle)', '(program)', '(garbage collector)'].includes(cf.functionName) ? cf.functionName : where(cf.url);
    byWhere.set(w, (byWhere.get(w) ?? 0) + us);
  }
  const busy = total - (byWhere.get('(idle)') ?? 0);
  const pct = (us) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  console.log(`\n=== ${path.basename(file)}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s not idle (percentages of non-idle)`);
  console.log('--- self time by package / file');
  for (const [k, v] of [...byWhere].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
  console.log('--- self time by function');
  for (const [k, v] of [...byFn].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(v)}  ${k}`);
}
