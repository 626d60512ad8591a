/**
 * Call purposes: the `metadata.tags.purpose` values operators put on their calls and the simulated fleet
 * dispatches on (src/models/sim/sim-provider.ts). Real providers ignore them (see CallMetadata.tags).
 */
export const CALL_PURPOSE = {
  answer: 'answer',
  verify: 'verify',
  critique: 'critique',
  threadStep: 'thread-step',
  searchStep: 'search-step',
  solo: 'solo',
  plan: 'plan',
  agentsnet: 'agentsnet',
  usc: 'usc',
} as const;

export type CallPurpose = (typeof CALL_PURPOSE)[keyof typeof CALL_PURPOSE];
