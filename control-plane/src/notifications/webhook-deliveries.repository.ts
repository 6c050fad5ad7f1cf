import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { ReviewDecisionEntity } from '../reviews/review.entity.js';
import { WebhookDeliveryEntity } from './webhook-delivery.entity.js';

export type NewWebhookDelivery = Pick<WebhookDeliveryEntity, 'id' | 'eventType' | 'reviewId' | 'body' | 'createdAt'>;

@Injectable()
export class WebhookDeliveriesRepository {
  constructor(
    @InjectRepository(WebhookDeliveryEntity) private readonly deliveries: Repository<WebhookDeliveryEntity>,
    @InjectRepository(ReviewDecisionEntity) private readonly decisions: Repository<ReviewDecisionEntity>,
  ) {}

  /** Appends to the outbox; due at once. */
  async enqueue(delivery: NewWebhookDelivery): Promise<void> {
    await this.deliveries.insert({ ...delivery, state: 'pending', attempts: 0, lastError: null, nextAttemptAt: delivery.createdAt, finishedAt: null });
  }

  /** The oldest undelivered event: nothing behind it is sent before it is delivered or given up on. */
  head(): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries.findOne({ where: { state: 'pending' }, order: { seq: 'ASC' } });
  }

  countPending(): Promise<number> {
    return this.deliveries.countBy({ state: 'pending' });
  }

  findById(id: string): Promise<WebhookDeliveryEntity | null> {
    return this.deliveries.findOneBy({ id });
  }

  /** Oldest first (tests and diagnostics). */
  listInOrder(): Promise<WebhookDeliveryEntity[]> {
    return this.deliveries.find({ order: { seq: 'ASC' } });
  }

  async markDelivered(id: string, attempts: number, at: Date): Promise<void> {
    await this.deliveries.update({ id, state: 'pending' }, { state: 'delivered', attempts, finishedAt: at });
  }

  async scheduleRetry(id: string, attempts: number, error: string, nextAttemptAt: Date): Promise<void> {
    await this.deliveries.update({ id, state: 'pending' }, { attempts, lastError: error, nextAttemptAt });
  }

  async markFailed(id: string, attempts: number, error: string, at: Date): Promise<void> {
    await this.deliveries.update({ id, state: 'pending' }, { state: 'failed', attempts, lastError: error, finishedAt: at });
  }

  /** The review's approvals so far, for the payload (the listener is handed only the review row). */
  approvalsOf(reviewId: number): Promise<number> {
    return this.decisions.countBy({ reviewId, decision: 'approve' });
  }
}
