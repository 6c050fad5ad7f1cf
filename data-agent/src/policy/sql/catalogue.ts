/**
 * What the parser cannot tell by itself: which functions run SQL or reach outside the database,
 * which functions are plain built-ins, and which settings change how the server lexes a query.
 * Names are matched on the function's last name component, whatever schema it was called through,
 * so that `public.dblink_exec(...)` or a quoted variant cannot dodge the list.
 */

/** Functions whose effect depends on a string they are given (SQL text, a file, another server). */
export const OPAQUE_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ...['dblink', 'dblink_exec', 'dblink_open', 'dblink_fetch', 'dblink_send_query', 'dblink_get_result', 'dblink_connect', 'dblink_connect_u']
    .map((f) => [f, 'runs SQL on another connection'] as const),
  ...['query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema', 'ts_stat', 'ts_rewrite']
    .map((f) => [f, 'runs SQL given as a string'] as const),
  ...['table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema', 'schema_to_xml', 'schema_to_xmlschema',
    'schema_to_xml_and_xmlschema', 'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema']
    .map((f) => [f, 'reads tables named by a string'] as const),
  ...['pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'lo_import', 'lo_export', 'pg_file_write',
    'pg_file_rename', 'pg_file_unlink']
    .map((f) => [f, 'reads or writes files on the database server'] as const),
  ...['pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'pg_promote', 'pg_rotate_logfile']
    .map((f) => [f, 'acts on the database server itself'] as const),
]);

/**
 * Built-ins that only compute values. Used when a policy fails closed on unknown functions: anything
 * else (including every user-defined function, whose body may run any SQL) makes a statement unknowable.
 * Deliberately short; extending it is safe only for functions that cannot run SQL or change state.
 */
export const KNOWN_SAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every', 'string_agg', 'array_agg', 'json_agg',
  'jsonb_agg', 'json_object_agg', 'jsonb_object_agg', 'stddev', 'variance', 'percentile_cont', 'percentile_disc',
  'row_number', 'rank', 'dense_rank', 'lag', 'lead', 'first_value', 'last_value', 'ntile',
  'lower', 'upper', 'length', 'char_length', 'octet_length', 'substr', 'substring', 'trim', 'btrim', 'ltrim',
  'rtrim', 'replace', 'concat', 'concat_ws', 'format', 'left', 'right', 'lpad', 'rpad', 'position', 'strpos',
  'split_part', 'regexp_replace', 'regexp_match', 'regexp_matches', 'md5', 'encode', 'decode', 'to_char',
  'to_date', 'to_timestamp', 'to_number', 'now', 'current_date', 'current_timestamp', 'clock_timestamp',
  'date_trunc', 'date_part', 'extract', 'age', 'make_date', 'make_interval', 'abs', 'ceil', 'floor', 'round',
  'trunc', 'mod', 'power', 'sqrt', 'random', 'greatest', 'least', 'coalesce', 'nullif', 'generate_series',
  'unnest', 'array_length', 'cardinality', 'jsonb_build_object', 'json_build_object', 'jsonb_build_array',
  'json_build_array', 'to_json', 'to_jsonb', 'jsonb_array_elements', 'jsonb_each', 'jsonb_extract_path',
  'jsonb_extract_path_text', 'jsonb_typeof', 'gen_random_uuid', 'version', 'current_setting', 'current_user',
  'current_schema', 'pg_backend_pid', 'exists',
]);

/**
 * Settings that change how the server splits a query string. If one changes under us, the server may
 * see a statement our parser did not: such a change fails closed unless the new value is one we lex the
 * same way (the agent parses UTF-8 with standard_conforming_strings on).
 */
const LEXING_SAFE_VALUES: ReadonlyMap<string, ReadonlySet<string> | null> = new Map([
  ['standard_conforming_strings', new Set(['on', 'true', 'yes', '1'])],
  ['client_encoding', new Set(['utf8', 'utf-8', 'unicode'])],
  ['backslash_quote', null],
  ['escape_string_warning', null],
]);

export function isLexingSetting(name: string): boolean {
  return LEXING_SAFE_VALUES.has(name.toLowerCase());
}

/** value null = unknown (a computed argument, DEFAULT, RESET): never safe. */
export function isSafeLexingValue(name: string, value: string | null): boolean {
  const safe = LEXING_SAFE_VALUES.get(name.toLowerCase());
  return safe != null && value !== null && safe.has(value.trim().toLowerCase());
}

/**
 * Settings whose SET is a harmless session statement: client presentation, timeouts, planner knobs,
 * transaction characteristics. Not here on purpose: role, session_authorization,
 * session_replication_role (disables triggers), default_tablespace, and anything unknown.
 * search_path is harmless by itself; the session judge tracks it for unqualified table names.
 */
const HARMLESS_SETTINGS: ReadonlySet<string> = new Set([
  'application_name', 'extra_float_digits', 'datestyle', 'timezone', 'intervalstyle', 'statement_timeout',
  'lock_timeout', 'idle_in_transaction_session_timeout', 'idle_session_timeout', 'transaction_timeout',
  'client_min_messages', 'search_path', 'work_mem', 'maintenance_work_mem', 'bytea_output', 'xmloption',
  'default_transaction_isolation', 'default_transaction_read_only', 'default_transaction_deferrable',
  'transaction', 'session characteristics', 'transaction_isolation', 'transaction_read_only',
  'transaction_deferrable', 'synchronous_commit', 'jit', 'random_page_cost', 'seq_page_cost',
  'effective_cache_size', 'join_collapse_limit', 'from_collapse_limit', 'plan_cache_mode', 'geqo',
  'lc_messages', 'lc_monetary', 'lc_numeric', 'lc_time', 'default_text_search_config', 'temp_buffers',
  'row_security', 'max_parallel_workers_per_gather', 'standard_conforming_strings', 'client_encoding',
]);

export function isHarmlessSetting(name: string): boolean {
  const n = name.toLowerCase();
  return HARMLESS_SETTINGS.has(n) || n.startsWith('enable_') || n.startsWith('cpu_');
}
