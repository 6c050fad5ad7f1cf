import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { CONFIG } from '../../common/config.token.js';
import { LOGGER, type StructuredLogger } from '../../common/logger.js';
import type { ControlPlaneConfig, WebhookConfig } from '../../config/config.js';
import { backoffDelayMs } from '../../notifications/backoff.js';
import { sendWebhook } from '../../notifications/webhook-sender.js';
import type { AuditEventEntity } from '../audit-event.entity.js';
import { AuditRepository } from '../audit.repository.js';
import { toAuditEventView } from '../audit.views.js';

export const AUDIT_SINK_NAME = 'webhook';
const BATCH = 100;
const IDLE_POLL_MS = 500;
const RETRY = { baseMs: 1_000, capMs: 60_000 };
const TIMEOUT_MS = 10_000;

/**
 * Delivers the audit log to a SIEM webhook: every event, oldest first, in signed batches. The log
 * itself is the outbox: a cursor in the database says how far delivery got, so a restart resumes
 * where it stopped, and a failing endpoint is retried (with backoff) without ever skipping an event.
 * Delivery is at least once: receivers deduplicate on each event's id (or hash).
 */
@Injectable()
export class AuditWebhookSink implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly webhook: WebhookConfig | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    @Inject(CONFIG) config: ControlPlaneConfig,
    @InjectDataSource() private readonly db: DataSource,
    private readonly events: AuditRepository,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
  ) {
    this.webhook = config.auditWebhook;
  }

  onApplicationBootstrap(): void {
    if (!this.webhook) return;
    this.logger.info('audit events are delivered to a webhook', { url: redactedUrl(this.webhook.url) });
    this.loop = this.run(this.webhook);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(webhook: WebhookConfig): Promise<void> {
    let failures = 0;
    let batch: AuditEventEntity[] = [];
    let deliveryId = '';
    while (!this.stopped) {
      try {
        if (batch.length === 0) {
          batch = await this.undelivered();
          deliveryId = randomUUID();
          if (batch.length === 0) {
            await this.sleep(IDLE_POLL_MS);
            continue;
          }
        }
        const body = JSON.stringify({ id: deliveryId, type: 'audit.events', events: batch.map(toAuditEventView) });
        const result = await sendWebhook({
          url: webhook.url, secret: webhook.secret, id: deliveryId, eventType: 'audit.events', body,
          timestamp: Math.floor(Date.now() / 1000), timeoutMs: TIMEOUT_MS,
        });
        if (!result.ok) throw new Error(result.error);
        await this.markDelivered(batch[batch.length - 1]!.id);
        batch = [];
        failures = 0;
      } catch (error) {
        failures++;
        const delay = backoffDelayMs(failures, RETRY);
        this.logger.warn('audit webhook delivery failed; retrying the same events', { attempt: failures, retryInMs: delay, error: (error as Error).message });
        await this.sleep(delay);
      }
    }
  }

  private async undelivered(): Promise<AuditEventEntity[]> {
    return this.events.pageAfter(await this.deliveredThrough(), BATCH);
  }

  async deliveredThrough(): Promise<string> {
    const [row] = (await this.db.query('SELECT delivered_through::text AS through FROM audit_sink_cursors WHERE sink = $1', [AUDIT_SINK_NAME])) as { through: string }[];
    return row?.through ?? '0';
  }

  private async markDelivered(id: string): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_sink_cursors (sink, delivered_through, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (sink) DO UPDATE SET delivered_through = GREATEST(audit_sink_cursors.delivered_through, EXCLUDED.delivered_through), updated_at = now()`,
      [AUDIT_SINK_NAME, id],
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The URL without credentials or query, which may hold a token. */
function redactedUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
