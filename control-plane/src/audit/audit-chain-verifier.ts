import { auditEventHash, type ChainedContent, GENESIS_HASH } from './audit-chain.js';

export interface ChainRow extends ChainedContent {
  id: string;
  prevHash: string;
  hash: string;
}

/** Index look-ups the verifier needs only once it has found a broken link. */
export interface ChainLookup {
  /** The lowest id of an event whose hash is `hash`, or null if none has it. */
  idOfHash(hash: string): Promise<string | null>;
  /** Whether some event records `hash` as its prev_hash. */
  isFollowed(hash: string): Promise<boolean>;
}

export type ChainProblem = 'altered' | 'removed' | 'reordered' | 'inserted';

export type ChainReport =
  | { ok: true; events: number; head: string }
  | { ok: false; firstBadEventId: number; problem: ChainProblem; message: string };

/**
 * Walks the log in id order and reports the first event that breaks the chain.
 *
 * The link is checked before the content, because a moved event also fails its own hash (the id is
 * hashed) and "reordered" says more than "altered". When a link is broken, where the event's
 * prev_hash points tells what happened:
 * - to no event, with ids skipped since the previous event: the skipped events were removed;
 * - to no event, with no ids skipped: the previous event was rewritten (its hash recomputed);
 * - to a later event: this event was moved before it (reordered);
 * - to an earlier event other than the previous one: an event was inserted. That is this one, unless
 *   the previous event claims the same predecessor, is a dead end, and this one is followed: then
 *   the previous one is the intruder.
 * Removing events from the end leaves a valid, shorter chain: compare `head` with one kept elsewhere.
 */
export async function verifyChain(pages: AsyncIterable<ChainRow[]>, lookup: ChainLookup): Promise<ChainReport> {
  let previous: ChainRow | undefined;
  let events = 0;
  for await (const page of pages) {
    for (const row of page) {
      if (row.prevHash !== (previous?.hash ?? GENESIS_HASH)) return brokenLink(previous, row, lookup);
      if (auditEventHash(row.prevHash, row) !== row.hash) {
        return bad(row.id, 'altered', `event ${row.id} was altered: its content no longer matches its hash`);
      }
      previous = row;
      events += 1;
    }
  }
  return { ok: true, events, head: previous?.hash ?? GENESIS_HASH };
}

async function brokenLink(previous: ChainRow | undefined, row: ChainRow, lookup: ChainLookup): Promise<ChainReport> {
  const previousId = previous ? Number(previous.id) : 0;
  const followsId = await lookup.idOfHash(row.prevHash);
  if (followsId === null) {
    if (Number(row.id) > previousId + 1) {
      const missing = Number(row.id) - previousId === 2 ? `event ${previousId + 1} was removed` : `the events between ${previousId} and ${row.id} were removed`;
      return bad(previousId + 1, 'removed', `${missing}: event ${row.id} follows an event that is no longer in the log`);
    }
    if (!previous) return bad(row.id, 'altered', `event ${row.id} was altered: as the first event it must follow the genesis hash`);
    return bad(previous.id, 'altered', `event ${previous.id} was altered: its hash is not the one event ${row.id} recorded for it`);
  }
  if (Number(followsId) > Number(row.id)) {
    return bad(row.id, 'reordered', `event ${row.id} is out of order: it follows event ${followsId}, which comes after it`);
  }
  if (previous && previous.prevHash === row.prevHash && !(await lookup.isFollowed(previous.hash)) && (await lookup.isFollowed(row.hash))) {
    return bad(previous.id, 'inserted', `event ${previous.id} was inserted: it claims to follow event ${followsId}, which event ${row.id} follows`);
  }
  return bad(row.id, 'inserted', `event ${row.id} was inserted: it claims to follow event ${followsId}, not event ${previousId}`);
}

function bad(id: string | number, problem: ChainProblem, message: string): ChainReport {
  return { ok: false, firstBadEventId: Number(id), problem, message };
}
