import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The e2e package directory. */
export const E2E_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The repository root. */
export const REPO_ROOT = resolve(E2E_DIR, '..');
/** Where each started process writes its output: e2e/.logs/<name>-<pid>.log */
export const LOG_DIR = join(E2E_DIR, '.logs');
/** The real CLI entry point. */
export const CLI_BIN = join(REPO_ROOT, 'cli', 'bin', 'airlock.js');
