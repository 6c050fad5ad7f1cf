import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, type Repository } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock.js';
import { NotFoundError } from '../common/errors.js';
import { SessionRecordingEntity } from './session-recording.entity.js';

export interface RecordingChunkIn {
  format: string;
  sequence: number;
  data: Uint8Array;
}

/** What the audit log keeps of a recording, so the hash chain covers it without holding it. */
export interface RecordingDigest {
  format: string;
  chunks: number;
  bytes: number;
  sha256: string;
  /** Chunk numbers that never arrived (a gap is visible, never silent). */
  missing: number[];
}

const PAGE = 64;

/**
 * Terminal recordings, stored as the agent streams them: chunk by chunk, each keyed by its number,
 * so a chunk sent twice (after a reconnect) is stored once and a lost one shows as a gap.
 */
@Injectable()
export class SessionRecordingsService {
  constructor(
    @InjectRepository(SessionRecordingEntity) private readonly chunks: Repository<SessionRecordingEntity>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async append(sessionId: string, chunk: RecordingChunkIn): Promise<void> {
    await this.chunks
      .createQueryBuilder()
      .insert()
      .values({ sessionId, sequence: chunk.sequence, format: chunk.format, data: Buffer.from(chunk.data), receivedAt: this.clock.now() })
      .orIgnore()
      .execute();
  }

  async exists(sessionId: string): Promise<boolean> {
    return (await this.chunks.countBy({ sessionId })) > 0;
  }

  /** The recording's chunks in order, a page at a time: a long session is never loaded whole. */
  async *read(sessionId: string): AsyncGenerator<SessionRecordingEntity> {
    for (let after = -1; ; ) {
      const page = await this.chunks.find({ where: { sessionId, sequence: MoreThan(after) }, order: { sequence: 'ASC' }, take: PAGE });
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1]!.sequence;
    }
  }

  /** Opens the recording for streaming, or says why there is none. */
  async open(sessionId: string): Promise<AsyncGenerator<SessionRecordingEntity>> {
    if (!(await this.exists(sessionId))) {
      throw new NotFoundError(`session ${sessionId} has no terminal recording (only SSH shell sessions have one; see airlock sessions show ${sessionId})`);
    }
    return this.read(sessionId);
  }

  async digest(sessionId: string): Promise<RecordingDigest | null> {
    const hash = createHash('sha256');
    let chunks = 0;
    let bytes = 0;
    let format = '';
    const missing: number[] = [];
    let expected = 0;
    for await (const chunk of this.read(sessionId)) {
      for (; expected < chunk.sequence && missing.length < 100; expected++) missing.push(expected);
      expected = chunk.sequence + 1;
      format = chunk.format;
      chunks++;
      bytes += chunk.data.length;
      hash.update(chunk.data);
    }
    if (chunks === 0) return null;
    return { format, chunks, bytes, sha256: hash.digest('hex'), missing };
  }
}
