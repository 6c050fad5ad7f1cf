/**
 * Inline masking through the whole path: a policy with masking rules applied with `airlock apply -f`,
 * psql (queries, COPY TO STDOUT and \copy) through `airlock connect` and `airlock exec`, against a
 * Postgres whose password only the agent knows. Sensitive values never leave the agent unmasked;
 * everything else arrives as it is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, TEST_ROLES } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import type { TestCluster } from '../data-agent/src/protocols/postgres/test-support/pg-cluster.js';
import { runPsql } from './support/index.js';
import { addPostgresConnection, startStack } from './harness/stack.js';
import type { Stack } from './harness/stack.js';

const POLICY = `apiVersion: airlock/v1
kind: Policy
metadata:
  name: masked-reads
spec:
  subjects: ["*"]
  connections: ["masked-*"]
  rules:
    - match: { statements: [select, copy] }
      action: allow
  default: deny
  masking:
    - columns: ["*.email", "customers.ssn"]
      mode: redact
    - columns: ["customers.card_number"]
      mode: keep-last
      keep: 4
    - detect: [email, card, iban, ssn, phone, ipv4, ipv6, jwt, api-key]
      mode: hash
`;

let stack: Stack;
let target: TestCluster;
let port: number;

beforeAll(async () => {
  target = await startTestCluster();
  await target.admin('CREATE TABLE customers (id int primary key, name text, email text, card_number text, ssn text, notes text)');
  await target.admin(`INSERT INTO customers VALUES
    (1, 'Jane Doe', 'jane.doe@example.com', '4111111111111111', '123-45-6789', 'reach her at jane.doe@example.com, key sk_live_4eC39HqLyjWDarjtT1zdp7dc'),
    (2, 'John Roe', 'john@example.org', '5500000000000004', '078-05-1120', 'IBAN DE89370400440532013000 on file')`);
  await target.admin(`GRANT SELECT ON customers TO ${TEST_ROLES.scram.user}`);
  stack = await startStack();
  await addPostgresConnection(stack, { agent: 'vpc', connection: 'masked-db', target, role: TEST_ROLES.scram });
  await stack.applyPolicy(POLICY);
  port = (await stack.connect('masked-db')).port;
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await target?.stop();
});

const SECRETS = ['jane.doe@example.com', 'john@example.org', '4111111111111111', '5500000000000004', '123-45-6789', '078-05-1120',
  'sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'DE89370400440532013000'];

describe('masking on the data path', () => {
  it('masks psql results through airlock connect and leaves the other columns as they are', async () => {
    const r = await runPsql({ port, user: 'whoever', database: 'whatever', command: 'select id, name, email, card_number, ssn, notes from customers order by id' });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((line) => line.split('|'));
    expect(rows.map((row) => row.slice(0, 5))).toEqual([
      ['1', 'Jane Doe', '****', '************1111', '****'],
      ['2', 'John Roe', '****', '************0004', '****'],
    ]);
    expect(rows[0]![5]).toMatch(/^reach her at h:[0-9a-f]{12}, key h:[0-9a-f]{12}$/);
    expect(rows[1]![5]).toMatch(/^IBAN h:[0-9a-f]{12} on file$/);
    for (const secret of SECRETS) expect(r.stdout).not.toContain(secret);
  });

  it('masks airlock exec output with the same rules and the same deterministic tokens', async () => {
    const r = await stack.cli(['exec', 'masked-db', '-c', "select email, notes from customers where id = 1 union all select 'x', 'jane.doe@example.com'"]);
    expect(r.code, r.stderr).toBe(0);
    for (const secret of SECRETS) expect(r.stdout).not.toContain(secret);
    const psql = await runPsql({ port, user: 'whoever', database: 'whatever', command: "select 'jane.doe@example.com'" });
    const token = psql.stdout.trim();
    expect(token).toMatch(/^h:[0-9a-f]{12}$/);
    expect(r.stdout).toContain(token);
  });

  it('masks COPY TO STDOUT and \\copy by column, and refuses COPY (query) with a reason while the session goes on', async () => {
    const copied = await runPsql({ port, user: 'whoever', database: 'whatever', command: '\\copy customers to stdout' });
    expect(copied.code, copied.stderr).toBe(0);
    const rows = copied.stdout.trim().split('\n').map((line) => line.split('\t'));
    expect(rows.map((row) => row.slice(0, 5))).toEqual([
      ['1', 'Jane Doe', '****', '************1111', '****'],
      ['2', 'John Roe', '****', '************0004', '****'],
    ]);
    expect(rows[0]![5]).toMatch(/^reach her at h:[0-9a-f]{12}, key h:[0-9a-f]{12}$/);
    for (const secret of SECRETS) expect(copied.stdout).not.toContain(secret);

    const csv = await runPsql({ port, user: 'whoever', database: 'whatever', command: 'COPY customers (name, email) TO STDOUT WITH (FORMAT csv, HEADER)' });
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stdout).toBe('name,email\nJane Doe,****\nJohn Roe,****\n');

    const refused = await runPsql({
      port, user: 'whoever', database: 'whatever', args: ['-v', 'ON_ERROR_STOP=0'],
      input: "COPY (SELECT name, email FROM customers) TO STDOUT;\nSELECT 'still connected';\n",
    });
    expect(refused.stderr).toContain('ERROR:  airlock: COPY (query) TO STDOUT cannot be masked by column, as its columns cannot be named from the statement; run the query as a SELECT instead');
    expect(refused.stdout).toBe('still connected\n');
  });
});
