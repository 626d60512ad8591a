/**
 * Simulates a crash between a committed registry write and the index flush: opens the registry at argv[2],
 * registers one card, and exits without closing (so the index file and its sidecar stay at the old state).
 */
import { CapabilityRegistry } from '../registry.ts';
import { card } from './fixtures.ts';

const registry = await CapabilityRegistry.open({ path: process.argv[2]! });
await registry.register(card('written-before-crash', '1.0.0', { description: 'Transcribes podcast audio into text' }));
process.exit(0);
