/**
 * Maps a top-level parse node (its type name and body) to a statement kind, and says whether the
 * statement is a harmless session statement (no user SQL runs, nothing in the database changes).
 */
import type { StatementKind } from '../types.js';

export type Node = Record<string, unknown>;

const EXACT: Readonly<Record<string, StatementKind>> = {
  SelectStmt: 'select', InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge',
  TruncateStmt: 'truncate', CopyStmt: 'copy', DoStmt: 'do', CallStmt: 'call', ExecuteStmt: 'execute',
  PrepareStmt: 'prepare', DeallocateStmt: 'deallocate', ExplainStmt: 'explain', VariableShowStmt: 'show',
  LockStmt: 'lock', ListenStmt: 'listen', UnlistenStmt: 'listen', NotifyStmt: 'notify',
  DeclareCursorStmt: 'declare', FetchStmt: 'fetch', ClosePortalStmt: 'close', DiscardStmt: 'discard',
  CommentStmt: 'comment', RefreshMatViewStmt: 'refresh', ReindexStmt: 'reindex', ClusterStmt: 'cluster',
  SecLabelStmt: 'security_label', ConstraintsSetStmt: 'set', RenameStmt: 'alter', AlterSystemStmt: 'alter',
  IndexStmt: 'create', ViewStmt: 'create', DefineStmt: 'create', RuleStmt: 'create',
  CompositeTypeStmt: 'create', CreateTableAsStmt: 'create', ImportForeignSchemaStmt: 'create',
  ReassignOwnedStmt: 'alter', DropOwnedStmt: 'drop', DropdbStmt: 'drop', DropRoleStmt: 'drop',
  DropTableSpaceStmt: 'drop', DropSubscriptionStmt: 'drop', DropUserMappingStmt: 'drop',
};

function transactionKind(body: Node): StatementKind {
  switch (body['kind']) {
    case 'TRANS_STMT_BEGIN':
    case 'TRANS_STMT_START':
      return 'begin';
    case 'TRANS_STMT_COMMIT':
    case 'TRANS_STMT_COMMIT_PREPARED':
    case 'TRANS_STMT_PREPARE':
      return 'commit';
    case 'TRANS_STMT_ROLLBACK':
    case 'TRANS_STMT_ROLLBACK_PREPARED':
      return 'rollback';
    default:
      return 'savepoint'; // SAVEPOINT, RELEASE, ROLLBACK TO
  }
}

export function kindOf(type: string, body: Node): StatementKind {
  const exact = EXACT[type];
  if (exact === 'select' && body['intoClause'] !== undefined) return 'create'; // SELECT INTO creates a table
  if (exact) return exact;
  switch (type) {
    case 'TransactionStmt':
      return transactionKind(body);
    case 'GrantStmt':
    case 'GrantRoleStmt':
      return body['is_grant'] === true ? 'grant' : 'revoke';
    case 'VacuumStmt':
      return body['is_vacuumcmd'] === true ? 'vacuum' : 'analyze';
    case 'VariableSetStmt':
      return body['kind'] === 'VAR_RESET' || body['kind'] === 'VAR_RESET_ALL' ? 'reset' : 'set';
    default:
      if (type.startsWith('Drop')) return 'drop';
      if (type.startsWith('Alter')) return 'alter';
      if (type.startsWith('Create')) return 'create';
      return 'other';
  }
}

/**
 * Session statements every policy lets through when no rule names them: refusing BEGIN, SHOW or
 * `SET extra_float_digits` would break ordinary drivers and protect nothing. Two-phase commit is not
 * harmless (COMMIT PREPARED finishes a transaction another session left behind). SET/RESET are
 * harmless only for the settings in catalogue.ts (decided by the caller, who knows the setting).
 */
export function isHarmlessKind(kind: StatementKind, type: string, body: Node): boolean {
  switch (kind) {
    case 'begin':
    case 'savepoint':
    case 'show':
    case 'fetch':
    case 'close':
    case 'deallocate':
    case 'discard':
    case 'prepare': // runs nothing; evaluation still refuses preparing a denied statement
      return true;
    case 'commit':
    case 'rollback':
      return body['kind'] === 'TRANS_STMT_COMMIT' || body['kind'] === 'TRANS_STMT_ROLLBACK';
    case 'set':
      return type === 'ConstraintsSetStmt';
    default:
      return false;
  }
}
