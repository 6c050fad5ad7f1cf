#!/usr/bin/env node
// Cost of content masking per value, in the agent's own code (data-agent/dist): every detector on,
// over values shaped like a result set's (ids, short text, long filler, timestamps, booleans, notes) and
// over values that do hold something to mask. Prints ns per value and MiB/s; no network, ~10 s.
// Usage: node bench/mask-detectors.mjs [--values N]    (build first: pnpm build)
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = process.env.BENCH_ROOT ?? join(dirname(fileURLToPath(import.meta.url)), '..');
const { Masker } = await import(join(root, 'data-agent', 'dist', 'masking', 'masker.js'));
const arg = process.argv.indexOf('--values');
const n = arg > 0 ? Number(process.argv[arg + 1]) : 20_000;

const ALL = ['email', 'card', 'iban', 'ssn', 'phone', 'ipv4', 'ipv6', 'jwt', 'api-key'];
const masker = new Masker([{ detect: ALL, mode: { kind: 'redact' } }], Buffer.alloc(32, 1));

const plain = [];
const sensitive = [];
for (let i = 0; i < n; i++) {
  plain.push(String(i * 7919), `Customer number ${i}`, 'x'.repeat(84), '2026-11-25 09:30:00+00', 'true', `note ${i}: call back tomorrow about the invoice`);
  sensitive.push(`ann.${i}@example.com`, '4111 1111 1111 1111', 'DE89 3704 0044 0532 0130 00', `call +44 20 7946 ${String(1000 + (i % 9000))}`, '10.1.2.3', `key sk_live_${'a'.repeat(20)}${i}`);
}

function measure(values) {
  let best = Infinity;
  let bytes = 0;
  for (let round = 0; round < 5; round++) {
    bytes = 0;
    const t0 = process.hrtime.bigint();
    for (const v of values) bytes += masker.maskText(v).length;
    best = Math.min(best, Number(process.hrtime.bigint() - t0));
  }
  return { nsPerValue: best / values.length, mibPerSecond: values.reduce((a, v) => a + v.length, 0) / (best / 1e9) / 1048576 };
}

for (const [name, values] of [['values with nothing to mask', plain], ['values with something to mask', sensitive]]) {
  const r = measure(values);
  console.log(`${name.padEnd(32)} ${r.nsPerValue.toFixed(0).padStart(6)} ns/value  ${r.mibPerSecond.toFixed(1).padStart(6)} MiB/s (best of 5, ${values.length} values)`);
}
