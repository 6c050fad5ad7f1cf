// Development only (see dev-ts-hooks.mjs): `node --import ./dev-ts-register.mjs` to run .ts sources.
import { register } from 'node:module';

register('./dev-ts-hooks.mjs', import.meta.url);
