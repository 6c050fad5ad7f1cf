// The ssh path of the benchmark: scp of one large file, upload and download, directly to an OpenSSH
// server vs. through airlock (`airlock connect` → control plane → agent's ssh engine → the same sshd),
// interleaved rounds, medians, reported as a ratio. The sshd is Debian's, started here on a loopback
// port with its own config and keys; the agent logs in with a key it reads from a file. Called by
// run.mjs with its process helpers, so every process is cleaned up with the rest.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SSHD = '/usr/sbin/sshd';

/** Why the ssh path cannot run here, or undefined when it can. */
export function sshUnavailable() {
  for (const bin of [SSHD, '/usr/bin/ssh', '/usr/bin/scp', '/usr/bin/ssh-keygen']) {
    if (!fs.existsSync(bin)) return `${bin} not installed (apt-get install openssh-server openssh-client)`;
  }
  if (process.getuid?.() !== 0) return 'sshd needs root here (privilege separation); run the bench as root for the ssh path';
  return undefined;
}

/**
 * deps: { work, cli, cliEnv, agentName, startDaemon, waitForLog, run, freePort, log, node, cliBin, median,
 *         processes: { controlPlane, agent } pids, cpuSnapshot, cpuDeltaMs }
 * Returns { medians: { direct, airlock }: MiB/s up and down, and the airlock processes' CPU ms per MiB; ratios; cipher }.
 */
export async function benchSsh(deps, { mib, rounds }) {
  const { work, cli, cliEnv, startDaemon, waitForLog, run, freePort, log } = deps;
  const dir = path.join(work, 'ssh');
  fs.mkdirSync(dir, { recursive: true });
  const keygen = (file) => spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'airlock-bench', '-f', file], { stdio: 'ignore' });
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const sshdPort = await freePort();
  const user = os.userInfo().username;
  fs.writeFileSync(path.join(dir, 'sshd_config'), [
    `Port ${sshdPort}`, 'ListenAddress 127.0.0.1', `HostKey ${path.join(dir, 'host_key')}`, `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`, 'PermitRootLogin prohibit-password', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'UsePAM no', 'StrictModes no', 'Subsystem sftp internal-sftp', 'PrintMotd no', 'MaxStartups 50', '',
  ].join('\n'));
  const sshd = startDaemon('sshd', SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')]);
  await waitForLog(sshd, /Server listening on 127\.0\.0\.1/, 20_000);
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fingerprint = `SHA256:${createHash('sha256').update(Buffer.from(hostPub.split(' ')[1], 'base64')).digest('base64').replace(/=+$/, '')}`;

  await cli([
    'connections', 'create', 'ssh-bench', '--type', 'ssh', '--agent', deps.agentName, '--host', '127.0.0.1', '--port', String(sshdPort),
    '--user', user, '--secret', `file:${path.join(dir, 'client_key')}`, '--option', 'credential=key', '--option', `host_key=${fingerprint}`,
  ]);
  const connect = startDaemon('cli-connect-ssh', deps.node, [deps.cliBin, 'connect', 'ssh-bench', '--port', String(await freePort()), '--json'], { cwd: work, env: cliEnv });
  const port = Number((await waitForLog(connect, /^\{.*"port":\s*(\d+).*\}$/m, 30_000))[1]);
  const airlockKnownHosts = path.join(cliEnv.AIRLOCK_HOME, 'known_hosts');
  const directKnownHosts = path.join(dir, 'known_hosts_direct');
  fs.writeFileSync(directKnownHosts, `[127.0.0.1]:${sshdPort} ${hostPub}\n`);

  // The same client options on both paths; only the port (and the host key it pins) differ.
  const common = ['-q', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-i', path.join(dir, 'client_key')];
  const target = {
    direct: { port: sshdPort, options: [...common, '-o', `UserKnownHostsFile=${directKnownHosts}`] },
    airlock: { port, options: [...common, '-o', `UserKnownHostsFile=${airlockKnownHosts}`] },
  };
  const file = path.join(dir, 'bulk.bin');
  writeRandomFile(file, mib);
  const remote = path.join(dir, 'remote.bin');

  // CPU of the airlock processes per MiB moved: steadier than throughput on a busy machine.
  const procs = { ...deps.processes, cli: connect.pid };
  const scp = async (p, from, to) => {
    const cpuBefore = deps.cpuSnapshot(procs);
    const started = process.hrtime.bigint();
    const r = await run('scp', ['-P', String(target[p].port), ...target[p].options, from, to], { timeoutMs: Math.max(120_000, mib * 2000) });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status !== 0) throw new Error(`scp on the ${p} path failed (${r.status}): ${r.stderr}`);
    const cpu = Object.fromEntries(Object.entries(deps.cpuDeltaMs(cpuBefore, deps.cpuSnapshot(procs))).map(([name, ms]) => [name, ms / mib]));
    return { mibs: mib / seconds, cpu };
  };
  const cipher = negotiatedCipher(run, port, target.airlock.options);
  log(`ssh: warm-up (scp of ${mib} MiB each way, both paths)`);
  for (const p of ['direct', 'airlock']) {
    await scp(p, file, `${user}@127.0.0.1:${remote}`);
    await scp(p, `${user}@127.0.0.1:${remote}`, '/dev/null');
  }
  const raw = { direct: [], airlock: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['direct', 'airlock'] : ['airlock', 'direct'];
    for (const p of order) {
      log(`ssh round ${round + 1}/${rounds} ${p}: scp ${mib} MiB up and down`);
      const upload = await scp(p, file, `${user}@127.0.0.1:${remote}`);
      const download = await scp(p, `${user}@127.0.0.1:${remote}`, '/dev/null');
      const cpu = p === 'airlock' ? Object.fromEntries(Object.keys(upload.cpu).flatMap((n) => [[`cpu_ms_per_mib_upload_${n}`, upload.cpu[n]], [`cpu_ms_per_mib_download_${n}`, download.cpu[n]]])) : {};
      raw[p].push({ upload_mibs: upload.mibs, download_mibs: download.mibs, ...cpu });
    }
  }
  const medians = Object.fromEntries(Object.entries(raw).map(([p, rs]) => [p, Object.fromEntries(Object.keys(rs[0]).map((k) => [k, deps.median(rs.map((r) => r[k]))]))]));
  return {
    mib,
    rounds,
    cipher: await cipher,
    medians,
    raw,
    ratios: {
      upload: medians.airlock.upload_mibs / medians.direct.upload_mibs,
      download: medians.airlock.download_mibs / medians.direct.download_mibs,
    },
  };
}

function writeRandomFile(file, mib) {
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = randomBytes(1024 * 1024);
    for (let i = 0; i < mib; i++) {
      chunk.writeUInt32LE(i, 0); // not the same MiB over and over
      fs.writeSync(fd, chunk);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** What cipher and MAC the person's ssh and airlock's engine agree on (ssh -v tells). */
async function negotiatedCipher(run, port, options) {
  // The sftp subsystem, which ends at once on EOF: no login shell (and its start-up files) is involved.
  const r = await run('ssh', ['-v', '-p', String(port), ...options.filter((o) => o !== '-q'), '-s', '127.0.0.1', 'sftp'], { timeoutMs: 30_000 });
  const m = /kex: server->client cipher: (\S+) MAC: (\S+)/.exec(r.stderr);
  return m ? `${m[1]} / ${m[2]}` : 'unknown';
}

/** The table rows of the ssh path. */
export function renderSsh(ssh, fmt) {
  if (!ssh) return '';
  if (ssh.skipped) return `ssh: ${ssh.skipped}`;
  const rows = [
    ['ssh bulk (scp)', 'direct', 'airlock', 'airlock ÷ direct'],
    [`upload ${ssh.mib} MiB, MiB/s`, fmt(ssh.medians.direct.upload_mibs), fmt(ssh.medians.airlock.upload_mibs), fmt(ssh.ratios.upload, 2)],
    [`download ${ssh.mib} MiB, MiB/s`, fmt(ssh.medians.direct.download_mibs), fmt(ssh.medians.airlock.download_mibs), fmt(ssh.ratios.download, 2)],
  ];
  const agentCpu = (d) => fmt(ssh.medians.airlock[`cpu_ms_per_mib_${d}_agent`]);
  rows.push([`agent CPU ms per MiB (up / down)`, '', `${agentCpu('upload')} / ${agentCpu('download')}`, '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line), '', `cipher through airlock: ${ssh.cipher}; ${ssh.rounds} interleaved round(s), medians.`].join('\n');
}
