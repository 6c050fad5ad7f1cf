/** Where review transitions are recorded; every transition is an audit event with who and why. */
export interface ReviewAudit {
  record(actor: string, kind: string, reviewId: number, details: Record<string, unknown>): Promise<void>;
}

export const REVIEW_AUDIT = Symbol('ReviewAudit');
