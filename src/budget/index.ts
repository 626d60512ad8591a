/**
 * budget — the ledger: hierarchical hard budgets (tokens, dollars, calls, seconds), reserve → settle/release,
 * spend reports by model, operator, axis, agent and budget. Knows nothing about models.
 */
export * from './ledger.ts';
