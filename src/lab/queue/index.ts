/** Scale-out: study and eval cells on BullMQ workers (coordinator, worker, their contract). */
export {
  CELL_QUEUE,
  WORKER_QUEUES,
  QUEUE_PROTOCOL_VERSION,
  type WorkerQueueName,
  type CellReport,
  type DispatchCells,
  type DispatchRequest,
  type StudySpec,
} from './contract.ts';
export { queueDispatcher, type QueueDispatcherOptions } from './coordinator.ts';
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker.ts';
export { QueueUnreachableError, queuePrefixIssue, resolveRedisUrl, redactUrl, DEFAULT_REDIS_URL } from './redis.ts';
