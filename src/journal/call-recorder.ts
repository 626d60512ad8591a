/**
 * The fleet's recorder interface, as the journal implements it (`Journal.recorder(runId)`). The models layer
 * owns the definition (dependency inversion: models cannot import the journal); these are its names here.
 */
import type { FinishReason, RecordedCall } from '../models/index.ts';

export type { CallIntent, CallRecorder, RecordedCall } from '../models/index.ts';
export type RecordedFinishReason = FinishReason;
export type RecordedResponse = RecordedCall['response'];
