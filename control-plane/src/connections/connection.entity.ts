import { Column, Entity, PrimaryColumn } from 'typeorm';

export const CONNECTION_TYPES = ['postgres', 'tcp', 'ssh', 'http', 'kubernetes'] as const;
export type ConnectionType = (typeof CONNECTION_TYPES)[number];

export const TLS_MODES = ['disable', 'prefer', 'require', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

@Entity({ name: 'connections' })
export class ConnectionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text', unique: true })
  name!: string;

  @Column({ type: 'text' })
  type!: ConnectionType;

  @Column({ name: 'agent_id', type: 'uuid' })
  agentId!: string;

  @Column({ type: 'text' })
  host!: string;

  @Column({ type: 'integer' })
  port!: number;

  @Column({ type: 'text', nullable: true })
  database!: string | null;

  @Column({ type: 'text', nullable: true })
  username!: string | null;

  /** `env:VAR` or `file:/abs/path`, resolved by the agent: the control plane never holds the secret. */
  @Column({ name: 'secret_ref', type: 'text', nullable: true })
  secretRef!: string | null;

  @Column({ name: 'tls_mode', type: 'text' })
  tlsMode!: TlsMode;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  /** Labels policies can select by (`connections: ["tag:env=prod"]`). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  tags!: Record<string, string>;

  /** Type-specific settings the agent needs (credential kind, header name, scheme, CA reference); never secrets. */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  options!: Record<string, string>;
}
