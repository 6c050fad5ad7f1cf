/**
 * Parser worker: parses and analyses one statement string per message. Runs in a worker thread because
 * hostile input (≈10,000 nested NOTs) overflows the WASM parser's stack on the main thread and can leave
 * the module broken; here the pool simply replaces the worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModule } from 'libpg-query';
import { parseAndAnalyze } from './parse-sql.js';
import type { WorkerReply, WorkerRequest } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('parser-worker must run in a worker thread');

/** Test-only triggers, honoured only when the pool was created with testHooks (never in production). */
function testHook(sql: string): void {
  if (!(workerData as { testHooks?: boolean } | undefined)?.testHooks) return;
  if (sql === '-- airlock-test:throw') throw new TypeError('injected failure');
  if (sql === '-- airlock-test:hang') for (;;);
  if (sql === '-- airlock-test:exit') process.exit(3);
}

await loadModule();
port.on('message', (req: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    testHook(req.sql);
    reply = { id: req.id, ...parseAndAnalyze(req.sql) };
  } catch (e) {
    reply = { id: req.id, ok: false, syntax: false, message: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies WorkerReply);
