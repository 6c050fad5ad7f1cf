/** How a policy version wants its reviews run; read from the control plane's own copy, never from the agent. */
export interface ReviewSettings {
  reviewers: string[];
  approvals: number;
  rejectOnAny: boolean;
  timeoutSeconds: number;
  approveForMaxSeconds: number;
  failFast: boolean;
}

export interface ReviewSettingsSource {
  reviewSettings(policyName: string, version: number): Promise<ReviewSettings | null>;
}

export const REVIEW_SETTINGS_SOURCE = Symbol('ReviewSettingsSource');
