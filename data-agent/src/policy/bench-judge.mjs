// Latency of judging one typical ~200-character SELECT (parse in the worker + evaluate), p50/p99.
// Runs the COMPILED code, which also proves the worker loads from dist/ as .js:
//   pnpm build && node src/policy/bench-judge.mjs            (or POLICY_DIST=<dir>/policy/index.js)
// Not a test: no timing is asserted anywhere.
import { performance } from 'node:perf_hooks';

const entry = process.env.POLICY_DIST ?? new URL('../../dist/policy/index.js', import.meta.url).href;
const { ParserPool, SessionJudge, evaluate } = await import(entry);

const rules = {
  unrestricted: false,
  policies: [{
    name: 'prod', version: 1, failFast: false, unknownFunctions: 'trust', defaultAction: 'review',
    rules: [
      { statements: ['drop', 'truncate', 'alter', 'grant', 'revoke'], tables: [], patterns: [], action: 'deny' },
      { statements: ['delete', 'update', 'insert'], tables: ['public.*'], patterns: [], action: 'review' },
      { statements: ['select', 'show', 'explain'], tables: [], patterns: [], action: 'allow' },
    ],
  }],
};
const sql = `select o.id, o.created_at, o.total_cents, c.email, c.name from public.orders o
  join public.customers c on c.id = o.customer_id where o.created_at > now() - interval '7 days'
  and o.status = 'paid' order by o.created_at desc limit 50`;

function pct(samples, p) {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const pool = new ParserPool();
const judge = new SessionJudge(rules, pool);
try {
  for (let i = 0; i < 2000; i++) await judge.judgeSimpleQuery(sql); // warm up (worker start, JIT)
  const total = [];
  const evalOnly = [];
  const analysed = await pool.analyzeSql(sql);
  for (let i = 0; i < 20000; i++) {
    const t0 = performance.now();
    const { verdict } = await judge.judgeSimpleQuery(sql);
    total.push((performance.now() - t0) * 1000);
    if (verdict.action !== 'allow') throw new Error(`unexpected verdict ${verdict.action}`);
    const t1 = performance.now();
    evaluate(rules, analysed);
    evalOnly.push((performance.now() - t1) * 1000);
  }
  const fmt = (s) => `p50 ${pct(s, 50).toFixed(1)} µs, p99 ${pct(s, 99).toFixed(1)} µs`;
  console.log(`SQL: ${sql.length} chars`);
  console.log(`judgeSimpleQuery (worker parse + analysis + evaluate): ${fmt(total)}`);
  console.log(`evaluate only:                                        ${fmt(evalOnly)}`);
} finally {
  await pool.close();
}
