import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import promClient from 'prom-client';
import { CLOCK, type Clock } from '../common/clock.js';
import { CONFIG } from '../common/config.token.js';
import { LOGGER, type StructuredLogger } from '../common/logger.js';
import type { ControlPlaneConfig, WebhookConfig } from '../config/config.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { backoffDelayMs, type BackoffPolicy } from './backoff.js';
import type { WebhookDeliveryEntity } from './webhook-delivery.entity.js';
import { WebhookDeliveriesRepository } from './webhook-deliveries.repository.js';
import { sendWebhook } from './webhook-sender.js';

export interface WebhookDeliveryOptions {
  /** How long one POST may take before it counts as failed. */
  readonly timeoutMs: number;
  /** After this many failed attempts a delivery is marked failed and the queue moves on. */
  readonly maxAttempts: number;
  /** How often the outbox is looked at when nothing kicked the dispatcher. */
  readonly pollMs: number;
  readonly backoff: BackoffPolicy;
  readonly random: () => number;
}

export const WEBHOOK_DELIVERY_OPTIONS = Symbol('WebhookDeliveryOptions');

/** 20 attempts with a 5 min cap: a failing endpoint is retried for about an hour and a quarter. */
export const DEFAULT_WEBHOOK_DELIVERY_OPTIONS: WebhookDeliveryOptions = Object.freeze({
  timeoutMs: 5_000,
  maxAttempts: 20,
  pollMs: 500,
  backoff: Object.freeze({ baseMs: 1_000, capMs: 5 * 60_000 }),
  random: Math.random,
});

export type DeliveryStep = 'idle' | 'waiting' | 'attempted';

/**
 * Sends the outbox to the configured endpoint, strictly in order and one request at a time: the head
 * of the queue blocks everything behind it until it is delivered or given up on. Runs a pass when
 * kicked (an event was enqueued) and otherwise every `pollMs`; times come from the injected clock.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly webhook: WebhookConfig | undefined;
  private readonly deliveriesTotal: promClient.Counter<'outcome'>;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private passAgain = false;
  private stopped = false;
  /** Serialises attempts, including ones a test drives by hand. */
  private exclusive: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(CONFIG) config: ControlPlaneConfig,
    private readonly deliveries: WebhookDeliveriesRepository,
    @Inject(WEBHOOK_DELIVERY_OPTIONS) private readonly options: WebhookDeliveryOptions,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: StructuredLogger,
    metrics: MetricsService,
  ) {
    this.webhook = config.webhook;
    this.deliveriesTotal = new promClient.Counter({
      name: 'airlock_webhook_deliveries_total',
      help: 'Review webhook delivery attempts by outcome: delivered, retry (failed, will be retried), failed (gave up)',
      labelNames: ['outcome'] as const,
      registers: [metrics.registry],
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const pending = await this.deliveries.countPending();
    if (!this.webhook) {
      if (pending > 0) this.logger.warn('review webhooks are waiting in the outbox but AIRLOCK_WEBHOOK_URL is not set', { pending });
      return;
    }
    // The origin only: a path or query may carry a customer's token.
    this.logger.info('review webhooks enabled', { endpoint: new URL(this.webhook.url).origin, pending });
    this.kick();
  }

  /** Stops polling and waits for the attempt in flight (bounded by the timeout) so its outcome is stored. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Runs a pass now; if one is running it goes round once more, so an event enqueued mid-pass is not left waiting a poll. */
  kick(): void {
    if (this.stopped || !this.webhook) return;
    if (this.pass) {
      this.passAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.passAgain = false;
    this.pass = this.drain().finally(() => {
      this.pass = undefined;
      if (this.passAgain) this.kick();
      else this.schedule();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    await this.exclusive;
  }

  /** One attempt at the head of the queue if it is due. */
  deliverNext(): Promise<DeliveryStep> {
    const step = this.exclusive.then(() => this.attemptHead());
    this.exclusive = step.catch(() => undefined);
    return step;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.kick(), this.options.pollMs);
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped && (await this.deliverNext()) === 'attempted') {
        // keep going while deliveries are due
      }
    } catch (error) {
      this.logger.error('webhook dispatch failed; retrying at the next poll', { error: (error as Error).message });
    }
  }

  private async attemptHead(): Promise<DeliveryStep> {
    if (!this.webhook) return 'idle';
    const head = await this.deliveries.head();
    if (!head) return 'idle';
    const now = this.clock.now();
    if (head.nextAttemptAt.getTime() > now.getTime()) return 'waiting';
    const attempts = head.attempts + 1;
    const result = await sendWebhook({
      url: this.webhook.url,
      secret: this.webhook.secret,
      id: head.id,
      eventType: head.eventType,
      body: head.body,
      timestamp: Math.floor(now.getTime() / 1000),
      timeoutMs: this.options.timeoutMs,
    });
    if (result.ok) await this.delivered(head, attempts);
    else await this.failed(head, attempts, result.error);
    return 'attempted';
  }

  private async delivered(delivery: WebhookDeliveryEntity, attempts: number): Promise<void> {
    await this.deliveries.markDelivered(delivery.id, attempts, this.clock.now());
    this.deliveriesTotal.inc({ outcome: 'delivered' });
    this.logger.info('review webhook delivered', fieldsOf(delivery, attempts));
  }

  private async failed(delivery: WebhookDeliveryEntity, attempts: number, error: string): Promise<void> {
    const now = this.clock.now();
    if (attempts >= this.options.maxAttempts) {
      await this.deliveries.markFailed(delivery.id, attempts, error, now);
      this.deliveriesTotal.inc({ outcome: 'failed' });
      this.logger.error('review webhook failed for good; the queue moves on', { ...fieldsOf(delivery, attempts), error });
      return;
    }
    const delayMs = backoffDelayMs(attempts, this.options.backoff, this.options.random);
    await this.deliveries.scheduleRetry(delivery.id, attempts, error, new Date(now.getTime() + delayMs));
    this.deliveriesTotal.inc({ outcome: 'retry' });
    this.logger.warn('review webhook attempt failed; will retry', { ...fieldsOf(delivery, attempts), error, retryInMs: delayMs });
  }
}

function fieldsOf(delivery: WebhookDeliveryEntity, attempts: number) {
  return { deliveryId: delivery.id, reviewId: delivery.reviewId, event: delivery.eventType, attempts };
}
