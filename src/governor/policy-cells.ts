/**
 * The governor's allocation cell — one arm and its parameters — shared by the policy file and the frontier
 * tables (its own module so that neither imports the other).
 */
import { z } from 'zod';
import { STRATEGIES } from '../workflow/index.ts';

export const tierSchema = z.enum(['small', 'medium', 'large']);
/**
 * stop (the probe's majority) · vote (widen the probe's vote) · cascade (the confidence router) · thread ·
 * plan (a generated workflow) · search (the retrieval loop) · strategy (a fixed named strategy, no probe).
 */
export const armSchema = z.enum(['stop', 'vote', 'cascade', 'thread', 'plan', 'search', 'strategy']);
export type Arm = z.infer<typeof armSchema>;
export const ARMS: readonly Arm[] = ['stop', 'vote', 'cascade', 'thread', 'plan', 'search', 'strategy'];

export const allocationCellSchema = z
  .object({
    arm: armSchema,
    /** vote: total samples (the probe's included); cascade: ignored. */
    samples: z.number().int().min(1).max(64).optional(),
    /** thread: model calls; search: retrieval steps. */
    steps: z.number().int().min(1).max(64).optional(),
    /** search: passages added per retrieval step. */
    k: z.number().int().min(1).max(20).optional(),
    /** cascade: never accept the first stage (the probe) — the allocation already judged it not good enough. */
    escalate: z.boolean().optional(),
    /** vote: stop once the leader is this many votes ahead (adaptive consistency); default: only when it cannot be overtaken. */
    lead: z.number().int().min(1).max(64).optional(),
    /** strategy: the fixed strategy run (sized to the query's budget as the lab's architecture of that name). */
    strategy: z.enum(STRATEGIES).optional(),
    /** strategy: its knob (`vote@8` → 8); absent: scaled with the budget. */
    parameter: z.number().int().min(1).max(64).optional(),
    /** thread / vote: tier of the model (default: the starting tier); cascade: the first tier escalated to. */
    tier: tierSchema.optional(),
  })
  .strict()
  .refine((cell) => (cell.arm === 'strategy') === (cell.strategy !== undefined), {
    message: 'strategy names the fixed strategy of a `strategy` cell, and only of one',
    path: ['strategy'],
  });

export type AllocationCell = z.infer<typeof allocationCellSchema>;
