import { ConfigError, type ConfigInput, loadConfig } from './config/config.js';
import { startControlPlane } from './main.js';

const USAGE = `usage: airlock-control-plane [--host HOST] [--port PORT] [--data-dir DIR]

Environment: AIRLOCK_HOST, AIRLOCK_PORT, AIRLOCK_DATA_DIR, DATABASE_URL, AIRLOCK_PUBLIC_URL,
AIRLOCK_BOOTSTRAP_TOKEN, AIRLOCK_LOG_LEVEL. Flags win over the environment.
TLS (required outside development): AIRLOCK_TLS_CERT (PEM chain), AIRLOCK_TLS_KEY (PEM key);
AIRLOCK_INSECURE_PLAINTEXT=1 serves plaintext instead, on a loopback AIRLOCK_HOST only.`;

const FLAGS: Record<string, keyof ConfigInput> = { '--host': 'host', '--port': 'port', '--data-dir': 'dataDir' };

/** Flags as config overrides; accepts `--flag value` and `--flag=value`. */
export function parseFlags(argv: string[]): ConfigInput {
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const key = FLAGS[flag];
    if (!key) throw new ConfigError(`unknown option "${argv[i]}"\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    overrides[key] = value;
  }
  return overrides;
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const running = await startControlPlane(loadConfig(process.env, parseFlags(argv)));
  let closing = false;
  const stop = (signal: string): void => {
    if (closing) return;
    closing = true;
    process.stderr.write(`airlock-control-plane: ${signal} received, shutting down\n`);
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`airlock-control-plane: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : `failed to start: ${error instanceof Error ? error.message : String(error)}`;
  process.stderr.write(`airlock-control-plane: ${message}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
});
