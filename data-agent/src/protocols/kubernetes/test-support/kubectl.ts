/** The machine's kubectl, as tests need to know it. */
import { spawnSync } from 'node:child_process';

export const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

/**
 * kubectl from 1.30 streams exec over WebSocket, which the stand-in API server serves; older ones
 * (Debian's is 1.20) speak SPDY, which it does not.
 */
export const KUBECTL_EXEC_OVER_WEBSOCKET =
  HAS_KUBECTL && Number(/"minor":\s*"(\d+)/.exec(spawnSync('kubectl', ['version', '--client', '-o', 'json'], { encoding: 'utf8' }).stdout ?? '')?.[1] ?? 0) >= 30;
