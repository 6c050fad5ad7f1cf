#!/usr/bin/env node
// Policy evaluation cost per allowed statement, measured in-process on the COMPILED agent code
// (data-agent/dist/policy/index.js): the statement pgbench -S sends, judged by a SessionJudge with
// the bench's own policy (select → allow, delete/update/insert → review, default deny), one at a time
// as the agent does on a c=1 session. Prints one JSON line:
//   wall µs per judgement (p50/p99: parse in the worker thread + analysis + evaluate, i.e. the latency
//   it adds to a statement) and CPU µs per judgement (process.cpuUsage: main thread + parser worker);
//   and, for comparison, CPU µs per judgement with the parse on the main thread (no worker hop).
// Used by bench/run.mjs; runnable alone: node bench/judge-cost.mjs [iterations]
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(process.env.BENCH_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')); // BENCH_ROOT: as in run.mjs
const entry = pathToFileURL(path.join(ROOT, 'data-agent', 'dist', 'policy', 'index.js')).href;
const { ParserPool, SessionJudge } = await import(entry);

const iterations = Math.max(1000, Number(process.argv[2] ?? 20000));
const rules = {
  unrestricted: false,
  policies: [{
    name: 'bench', version: 1, failFast: false, unknownFunctions: 'trust', defaultAction: 'deny',
    rules: [
      { statements: ['select'], tables: [], patterns: [], action: 'allow' },
      { statements: ['delete', 'update', 'insert'], tables: [], patterns: [], action: 'review' },
    ],
    review: { reviewers: ['group:approvers'], approvals: 1, rejectOnAny: true, timeoutSeconds: 900, approveForMaxSeconds: 0 },
  }],
};
// pgbench -S's statement (builtin "select-only" script), with a different aid each time as pgbench sends it
const sqlFor = (i) => `SELECT abalance FROM pgbench_accounts WHERE aid = ${1 + ((i * 7919) % 1000000)};`;
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const pool = new ParserPool();
const judge = new SessionJudge(rules, pool);
try {
  for (let i = 0; i < 2000; i++) await judge.judgeSimpleQuery(sqlFor(i)); // worker start, JIT
  const wall = new Float64Array(iterations);
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    const { verdict } = await judge.judgeSimpleQuery(sqlFor(i));
    wall[i] = (performance.now() - t) * 1000;
    if (verdict.action !== 'allow') throw new Error(`unexpected verdict ${verdict.action}: ${verdict.reasons.join('; ')}`);
  }
  const elapsed = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  wall.sort();
  // For comparison, the same judgements with the parse on this thread (no worker round trip), using
  // the same libpg-query and analysis the worker runs: the difference is the cost of the thread hop.
  let inline;
  try {
    const require = createRequire(path.join(ROOT, 'data-agent', 'package.json'));
    const lpq = await import(pathToFileURL(require.resolve('libpg-query')).href);
    const { analyzeParseResult } = await import(pathToFileURL(path.join(ROOT, 'data-agent', 'dist', 'policy', 'sql', 'analyze-tree.js')).href);
    await lpq.loadModule();
    const local = new SessionJudge(rules, { analyzeSql: async (sql) => analyzeParseResult(sql, lpq.parseSync(sql)) });
    for (let i = 0; i < 2000; i++) await local.judgeSimpleQuery(sqlFor(i));
    const c0 = process.cpuUsage();
    for (let i = 0; i < iterations; i++) {
      const { verdict } = await local.judgeSimpleQuery(sqlFor(i));
      if (verdict.action !== 'allow') throw new Error(`inline: unexpected verdict ${verdict.action}`);
    }
    const c = process.cpuUsage(c0);
    inline = { cpuUsPerJudgement: (c.user + c.system) / iterations };
  } catch (e) {
    inline = { error: String(e?.message ?? e) };
  }
  console.log(JSON.stringify({
    sql: sqlFor(0),
    iterations,
    wallP50Us: pct(wall, 50),
    wallP99Us: pct(wall, 99),
    cpuUsPerJudgement: (cpu.user + cpu.system) / iterations,
    judgementsPerSecond: iterations / (elapsed / 1000),
    inlineParse: inline,
  }));
} finally {
  await pool.close();
}
