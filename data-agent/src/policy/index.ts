/** Local policy: statement analysis with Postgres's own parser and pure evaluation. */
export * from './types.js';
export { fromWirePolicy } from './wire.js';
export { evaluate, decideStatement, DEFAULT_CONTEXT } from './evaluate.js';
export { ParserPool, type ParserPoolOptions, type ParserPoolStats } from './sql/parser-pool.js';
export { SessionJudge, type Judgement, type SessionJudgeOptions, type StatementAnalyzer } from './session-judge.js';
export { evaluateRequest, decideRequest, compileGlob } from './request-evaluate.js';
