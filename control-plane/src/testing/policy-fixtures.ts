/** The example from issue 3, verbatim. */
export const PROD_POSTGRES = `
apiVersion: airlock/v1
kind: Policy
metadata:
  name: prod-postgres
spec:
  subjects: ["group:engineers", "user:alice@example.com", "serviceaccount:nightly-ci"]   # "*" = everyone
  connections: ["prod-*"]
  access: allow
  rules:                           # first match wins
    - match: { statements: [drop, truncate, alter, grant, revoke] }
      action: deny
    - match: { statements: [delete, update, insert], tables: ["public.*"] }
      action: review
    - match: { statements: [select, show, explain] }
      action: allow
  default: review
  review:
    reviewers: ["group:dba"]
    approvals: 2
    rejectOnAny: true
    timeout: 15m
    approveFor: 1h
`;
