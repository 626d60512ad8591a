/**
 * Background jobs (studies, evaluations) as the console lists them: a job's progress in cells, and the table of
 * the jobs started in this gateway, newest first, with its loading, empty and error states. Each page keeps
 * what is its own: the words, where a job's page is, and how its request reads.
 */
import type { ReactNode } from 'react';
import { formatTime } from '../format.ts';
import { href } from '../route.ts';
import type { StudyJob } from '../types.ts';
import type { Loaded } from '../use-fetch.ts';
import { Empty, ErrorBox, Loading, StatusBadge } from './states.tsx';

type ListedJob = Pick<StudyJob, 'id' | 'status' | 'progress' | 'simulated' | 'started_at' | 'request'>;

export function Progress({ job, noun = 'Study' }: { job: Pick<StudyJob, 'id' | 'status' | 'progress'>; noun?: string }): ReactNode {
  const progress = job.progress;
  if (!progress || progress.total === 0) return <span className="muted">{job.status === 'running' ? 'starting…' : '—'}</span>;
  return (
    <span className="progress">
      <progress max={progress.total} value={progress.done} aria-label={`${noun} ${job.id}: ${progress.done} of ${progress.total} cells`} />{' '}
      {progress.done}/{progress.total}
      {progress.failed > 0 ? ` (${progress.failed} failed)` : ''}
    </span>
  );
}

export interface JobsTableProps<Job extends ListedJob> {
  jobs: Loaded<{ data: Job[] }>;
  title: string;
  /** The heading's id, which also labels the table. */
  titleId: string;
  loadingLabel: string;
  /** Shown when no job has run yet. */
  empty: ReactNode;
  /** The first segment of a job's page (`#/studies/<id>`). */
  section: string;
  /** The first column's heading, and the noun the progress bar is labelled with. */
  nameHeader: string;
  progressNoun: string;
  requestHeader: string;
  requestClassName?: string;
  request: (job: Job) => ReactNode;
}

export function JobsTable<Job extends ListedJob>(props: JobsTableProps<Job>): ReactNode {
  const { jobs: fetched } = props;
  // The server lists oldest first; the newest is what one looks for.
  const jobs = fetched.data ? [...fetched.data.data].reverse() : [];
  return (
    <>
      <h2 id={props.titleId}>{props.title}</h2>
      {fetched.error ? <ErrorBox error={fetched.error} onRetry={fetched.reload} /> : null}
      {!fetched.data && !fetched.error ? <Loading label={props.loadingLabel} /> : null}
      {fetched.data && jobs.length === 0 ? <Empty>{props.empty}</Empty> : null}
      {jobs.length > 0 ? (
        <div className="table-wrap">
          <table aria-labelledby={props.titleId}>
            <thead>
              <tr>
                <th scope="col">{props.nameHeader}</th>
                <th scope="col">Status</th>
                <th scope="col">Progress</th>
                <th scope="col">Started</th>
                <th scope="col">{props.requestHeader}</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.id}>
                  <td>
                    <a href={href([props.section, job.id])}>{job.id}</a>
                  </td>
                  <td>
                    <StatusBadge status={job.status} />
                    {job.simulated ? <span className="badge sim">sim</span> : null}
                  </td>
                  <td>
                    <Progress job={job} noun={props.progressNoun} />
                  </td>
                  <td>
                    <time dateTime={job.started_at}>{formatTime(job.started_at)}</time>
                  </td>
                  <td className={props.requestClassName}>{props.request(job)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
