// The http path of the benchmark: requests per second of small keep-alive GETs, directly to a node HTTP
// server vs. through airlock (`airlock connect` → control plane → agent's http engine → the same
// server), at 1 and 8 concurrent connections, interleaved rounds, medians, reported as ratios, with the
// airlock processes' CPU per request. The target runs in a process of its own and the load generator in
// the bench's (idle otherwise), so neither shares an event loop with what is measured. Called by run.mjs
// with its process helpers, so every process is cleaned up with the rest.
import http from 'node:http';

/** A small JSON API: what an internal service answers, about 150 bytes a response. */
const TARGET_SCRIPT = `
const http = require('node:http');
const body = JSON.stringify({ id: 42, name: 'widget', tags: ['a', 'b'], updatedAt: '2026-11-25T10:00:00Z', stock: 1234, note: 'airlock bench' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[1]), '127.0.0.1', () => console.log('http target listening'));
`;

/**
 * deps: { work, cli, cliEnv, agentName, startDaemon, waitForLog, freePort, log, node, cliBin, median,
 *         processes: { controlPlane, agent } pids, cpuSnapshot, cpuDeltaMs }
 * Returns { medians: { direct, airlock }: requests/s at c=1 and c=8 (and CPU µs per request of the airlock processes); ratios }.
 */
export async function benchHttp(deps, { seconds, rounds }) {
  const { cli, cliEnv, startDaemon, waitForLog, freePort, log } = deps;
  const targetPort = await freePort();
  const target = startDaemon('http-target', deps.node, ['-e', TARGET_SCRIPT, String(targetPort)]);
  await waitForLog(target, /http target listening/, 20_000);
  await cli(['connections', 'create', 'http-bench', '--type', 'http', '--agent', deps.agentName, '--host', '127.0.0.1', '--port', String(targetPort), '--option', 'credential=none']);
  const connect = startDaemon('cli-connect-http', deps.node, [deps.cliBin, 'connect', 'http-bench', '--port', String(await freePort()), '--json'], { cwd: deps.work, env: cliEnv });
  const airlockPort = Number((await waitForLog(connect, /^\{.*"port":\s*(\d+).*\}$/m, 30_000))[1]);
  const ports = { direct: targetPort, airlock: airlockPort };
  const procs = { ...deps.processes, cli: connect.pid };

  const measure = async (p, concurrency, forSeconds) => {
    const cpuBefore = deps.cpuSnapshot(procs);
    const requests = await load(ports[p], concurrency, forSeconds);
    const rps = requests / forSeconds;
    const cpu = p === 'airlock' ? Object.fromEntries(Object.entries(deps.cpuDeltaMs(cpuBefore, deps.cpuSnapshot(procs))).map(([name, ms]) => [`cpu_us_per_request_c${concurrency}_${name}`, (ms * 1000) / requests])) : {};
    return { rps, cpu };
  };

  log('http: warm-up (both paths, c=8)');
  for (const p of ['direct', 'airlock']) await measure(p, 8, Math.min(2, seconds));
  const raw = { direct: [], airlock: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['direct', 'airlock'] : ['airlock', 'direct'];
    for (const p of order) {
      log(`http round ${round + 1}/${rounds} ${p}: ${seconds} s at c=1, ${seconds} s at c=8`);
      const one = await measure(p, 1, seconds);
      const eight = await measure(p, 8, seconds);
      raw[p].push({ rps_c1: one.rps, rps_c8: eight.rps, ...one.cpu, ...eight.cpu });
    }
  }
  const medians = Object.fromEntries(Object.entries(raw).map(([p, rs]) => [p, Object.fromEntries(Object.keys(rs[0]).map((k) => [k, deps.median(rs.map((r) => r[k]))]))]));
  return {
    seconds,
    rounds,
    medians,
    raw,
    ratios: { c1: medians.airlock.rps_c1 / medians.direct.rps_c1, c8: medians.airlock.rps_c8 / medians.direct.rps_c8 },
  };
}

/** `concurrency` keep-alive connections, each sending GET / back to back for `seconds`; returns how many were answered. */
async function load(port, concurrency, seconds) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const deadline = Date.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (Date.now() < deadline) {
      await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/items/42', agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`http bench: status ${res.statusCode} from port ${port}`));
          res.resume();
          res.once('end', resolve);
          res.once('error', reject);
        });
        req.once('error', reject);
      });
      done++;
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return done;
}

/** The table rows of the http path. */
export function renderHttp(result, fmt) {
  if (!result) return '';
  if (result.skipped) return `http: ${result.skipped}`;
  const { medians: m, ratios } = result;
  const rows = [
    ['http requests (keep-alive GET, ~150 B JSON)', 'direct', 'airlock', 'airlock ÷ direct'],
    ['requests/s, 1 connection', fmt(m.direct.rps_c1, 0), fmt(m.airlock.rps_c1, 0), fmt(ratios.c1, 2)],
    ['requests/s, 8 connections', fmt(m.direct.rps_c8, 0), fmt(m.airlock.rps_c8, 0), fmt(ratios.c8, 2)],
  ];
  const cpu = (c, n) => fmt(m.airlock[`cpu_us_per_request_c${c}_${n}`], 0);
  rows.push(['CPU µs per request at c=8 (CLI / control plane / agent)', '', `${cpu(8, 'cli')} / ${cpu(8, 'controlPlane')} / ${cpu(8, 'agent')}`, '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line), '', `${result.rounds} interleaved round(s) of ${result.seconds} s per concurrency, medians.`].join('\n');
}
