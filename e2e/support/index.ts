export * from './paths.js';
export * from './ports.js';
export * from './processes.js';
export * from './run.js';
export * from './cli.js';
export * from './psql.js';
export * from './postgres.js';
export * from './certificates.js';
