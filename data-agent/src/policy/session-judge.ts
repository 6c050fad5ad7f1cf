/**
 * SessionJudge: one per proxied Postgres session. It combines the shared parser pool, the session's
 * rules and what the session has prepared, so that the engine can ask, before forwarding anything,
 * "may this run?".
 *
 * How the Postgres engine uses it:
 *  - Simple Query:      `await judge.judgeSimpleQuery(sql)` → forward if allow; hold for review; refuse
 *                       the whole Query if deny.
 *  - Extended protocol: `await judge.judgeParse(statementName, sql)` on Parse (records the statement;
 *                       a deny may be reported at once), `judge.bind(portal, statementName)` on Bind,
 *                       `judge.judgeExecute(portal)` on Execute — enforce at Execute, since a named
 *                       statement may be parsed once and executed many times (each run is judged).
 *                       `closeStatement(name)` / `closePortal(name)` on Close.
 *  - Server ParameterStatus: `judge.onParameterStatus(name, value)` for every one, including login.
 *
 * What is recorded is recorded when judged, whatever the verdict and whether or not the server then
 * runs it. Every such error is on the strict side: an extra remembered PREPARE only adds candidates,
 * a forgotten one makes a later EXECUTE unknowable, a search_path change only narrows allow rules.
 * Prepared-statement names are one namespace for SQL PREPARE and protocol Parse, as in Postgres.
 */
import { evaluate } from './evaluate.js';
import { isLexingSetting, isSafeLexingValue } from './sql/catalogue.js';
import type { EvaluationContext, SessionRules, StatementAnalysis, StatementKind, Verdict } from './types.js';

export interface StatementAnalyzer {
  analyzeSql(sql: string): Promise<StatementAnalysis[]>;
}

export interface Judgement {
  verdict: Verdict;
  /** The statements as judged (EXECUTE replaced by what it runs). */
  statements: StatementAnalysis[];
}

export interface SessionJudgeOptions {
  /** False when the client's startup options set search_path (unqualified names are then not assumed public). */
  searchPathIsDefault?: boolean;
}

/** Bounds on what one session may make the agent remember; beyond them lookups fail closed. */
const MAX_PREPARED = 10_000;
const MAX_CANDIDATES = 8;
const MAX_EXECUTE_DEPTH = 4;

export class SessionJudge {
  /**
   * name → every definition the server might hold under it. Postgres refuses to PREPARE an existing
   * name, and we cannot always tell whether a DEALLOCATE ran, so a re-used name keeps all candidates
   * and an EXECUTE of it is judged as the strictest of them.
   */
  private readonly prepared = new Map<string, StatementAnalysis[][]>();
  private readonly portals = new Map<string, StatementAnalysis[][]>();
  private ctx: EvaluationContext;
  /** Sticky: once the lexing context may differ from the parser's, every statement fails closed. */
  private lexingUnsafe: string | null = null;

  constructor(
    private readonly rules: SessionRules,
    private readonly analyzer: StatementAnalyzer,
    options: SessionJudgeOptions = {},
  ) {
    this.ctx = { searchPathIsDefault: options.searchPathIsDefault ?? true };
  }

  /**
   * A simple-protocol Query: every statement in it, in order (a PREPARE is visible to a later EXECUTE).
   * Session state changed by one statement (search_path, lexing settings) is applied to the whole
   * query it is in: conservative for the statements before it, required for those after it.
   */
  async judgeSimpleQuery(sql: string): Promise<Judgement> {
    const analysed = await this.analyzer.analyzeSql(sql);
    const statements = analysed.map((s) => {
      const judged = this.resolve(s, 0);
      this.record(s);
      return judged;
    });
    return this.finish(statements);
  }

  /** A Parse message: records the statement under `statementName` ('' = the unnamed statement). */
  async judgeParse(statementName: string, sql: string): Promise<Judgement> {
    const analysed = await this.analyzer.analyzeSql(sql);
    this.remember(this.prepared, statementName, analysed);
    const judged = analysed.map((s) => this.resolve(s, 0));
    // Recorded now rather than at Execute: early is always the strict side (see the header).
    analysed.forEach((s) => this.record(s));
    return this.finish(judged);
  }

  /** A Bind message: the portal runs what the statement holds now. */
  bind(portalName: string, statementName: string): void {
    const candidates = this.prepared.get(statementName);
    if (candidates) this.portals.set(portalName, candidates);
    else this.portals.delete(portalName); // unknown statement: Execute fails closed
  }

  /** An Execute message. A portal this judge never saw bound (e.g. a DECLAREd cursor) fails closed. */
  judgeExecute(portalName: string): Judgement {
    const candidates = this.portals.get(portalName);
    if (!candidates) return this.finish([unknownPrepared(`portal "${portalName}"`)]);
    return this.finish(candidates.flat().map((s) => this.resolve(s, 0)));
  }

  closeStatement(name: string): void {
    this.prepared.delete(name);
  }

  closePortal(name: string): void {
    this.portals.delete(name);
  }

  /** Every ParameterStatus from the server: a lexing setting with a value we do not lex alike fails the session closed. */
  onParameterStatus(name: string, value: string): void {
    if (isLexingSetting(name) && !isSafeLexingValue(name, value)) {
      this.lexingUnsafe ??= `server reports ${name} = ${value}, which the agent's parser does not lex alike`;
    }
  }

  /** True once the session can no longer be parsed reliably (every statement then gets the strictest action). */
  get failingClosed(): boolean {
    return this.lexingUnsafe !== null;
  }

  /** False once a statement judged in this session may have changed search_path (it never turns back). */
  get searchPathIsDefault(): boolean {
    return this.ctx.searchPathIsDefault;
  }

  /** Parses SQL the session sent with the session's parser, without judging it (COPY masking reads it). */
  analyze(sql: string): Promise<StatementAnalysis[]> {
    return this.analyzer.analyzeSql(sql);
  }

  private finish(statements: StatementAnalysis[]): Judgement {
    const judged = this.lexingUnsafe === null ? statements : statements.map((s) => withReason(s, this.lexingUnsafe!));
    return { verdict: evaluate(this.rules, judged, this.ctx), statements: judged };
  }

  /** Substitutes what EXECUTE runs; names still unknown stay in `executes`, which evaluation fails closed. */
  private resolve(s: StatementAnalysis, depth: number): StatementAnalysis {
    if (s.executes.length === 0 || depth >= MAX_EXECUTE_DEPTH) return s;
    const unknown: string[] = [];
    const effects = new Set<StatementKind>(s.effects);
    let out: StatementAnalysis = { ...s, tables: [...s.tables], functions: [...s.functions], reasons: [...s.reasons] };
    for (const name of s.executes) {
      const candidates = this.prepared.get(name);
      if (!candidates) {
        unknown.push(name);
        continue;
      }
      for (const c of candidates.flat().map((x) => this.resolve(x, depth + 1))) {
        c.effects.forEach((e) => effects.add(e));
        out.tables.push(...c.tables);
        out.functions.push(...c.functions);
        out.reasons.push(...c.reasons);
        out = { ...out, program: out.program || c.program, unknowable: out.unknowable || c.unknowable || c.executes.length > 0 };
        if (c.parseError !== undefined) out.parseError ??= c.parseError;
      }
    }
    if (unknown.length === 0) effects.delete('execute');
    return { ...out, effects: [...effects], executes: unknown };
  }

  /** Applies what a statement does to the session's state (PREPARE, DEALLOCATE, search_path, lexing). */
  private record(s: StatementAnalysis): void {
    if (s.prepare) this.remember(this.prepared, s.prepare.name, [s.prepare.inner]);
    if (s.deallocate) {
      if (s.deallocate.name === null) this.prepared.clear();
      else this.prepared.delete(s.deallocate.name);
    }
    for (const change of s.settings) {
      if (change.name === 'search_path') this.ctx = { ...this.ctx, searchPathIsDefault: false };
      if (isLexingSetting(change.name) && !isSafeLexingValue(change.name, change.value)) {
        // Judged before the server answers: a pipelined next query must not be parsed under the old context.
        this.lexingUnsafe ??= `the session changed ${change.name}`;
      }
    }
  }

  private remember(map: Map<string, StatementAnalysis[][]>, name: string, analysed: StatementAnalysis[]): void {
    const existing = map.get(name);
    if (name === '' || !existing) {
      // Parse of the unnamed statement always replaces it (the server drops the old one first).
      if (!existing && map.size >= MAX_PREPARED) return; // not remembered: a later EXECUTE fails closed
      map.set(name, [analysed]);
    } else if (existing.length < MAX_CANDIDATES) {
      existing.push(analysed);
    } else {
      map.delete(name); // too many redefinitions: forget, so EXECUTE fails closed
    }
  }
}

function withReason(s: StatementAnalysis, reason: string): StatementAnalysis {
  return { ...s, unknowable: true, reasons: [...s.reasons, reason] };
}

function unknownPrepared(what: string): StatementAnalysis {
  return {
    text: `(execute ${what})`, kind: 'execute', effects: ['execute'], tables: [], functions: [], program: false,
    unknowable: true, reasons: [`${what} was not prepared through airlock`], harmless: false, settings: [], executes: [],
  };
}
