/**
 * What some runs carry beyond calls and spend: a KV-pruned thread's cache over time (the embedded engine's
 * samples, one per finished task: cells in use against what an unpruned sequence would hold), and the
 * criticality readings of the reasoning graph when the run was monitored. Each shows only when present.
 */
import type { ReactNode } from 'react';
import { formatTokens } from '../format.ts';
import type { CriticalityView, KvThreadView } from '../run-model.ts';
import { LineChart } from './charts.tsx';

const fixed = (value: number, digits = 3): string => (Number.isFinite(value) ? value.toFixed(digits) : '—');

export function KvThreadPanel({ threads }: { threads: KvThreadView[] }): ReactNode {
  if (threads.length === 0) return null;
  return (
    <div className="panel">
      <h2>KV-thread cache</h2>
      {threads.map((thread) => {
        const last = thread.samples.at(-1);
        const saved = last && last.unprunedTokens > 0 ? 1 - last.kvTokens / last.unprunedTokens : null;
        return (
          <div key={thread.stepId} className="kv-thread">
            <p>
              <code>{thread.stepId}</code>: peak {thread.peakKvTokens === null ? '—' : formatTokens(thread.peakKvTokens)} cells in use;{' '}
              {thread.erasures ?? 0} erasures freed {formatTokens(thread.tokensErased ?? 0)} tokens
              {saved === null ? '' : `; at the end the cache held ${Math.round(saved * 100)}% less than an unpruned sequence`}.
            </p>
            <LineChart
              title={`${thread.stepId}: KV cache over the thread`}
              xLabel="finished tasks"
              yLabel="tokens in the cache"
              series={[
                {
                  name: 'unpruned (nothing erased)',
                  dashed: true,
                  underlay: true,
                  markers: false,
                  points: thread.samples.map((sample) => ({ x: sample.finishedTasks, y: sample.unprunedTokens })),
                },
                {
                  name: 'KV cache (pruned)',
                  points: thread.samples.map((sample) => ({
                    x: sample.finishedTasks,
                    y: sample.kvTokens,
                    label:
                      `after ${sample.finishedTasks} tasks (${(sample.elapsedMs / 1000).toFixed(1)} s): ` +
                      `${formatTokens(sample.kvTokens)} cells, ${formatTokens(sample.unprunedTokens)} unpruned`,
                  })),
                },
              ]}
            />
          </div>
        );
      })}
    </div>
  );
}

export function CriticalityPanel({ readings }: { readings: CriticalityView[] }): ReactNode {
  if (readings.length === 0) return null;
  return (
    <div className="panel">
      <h2>Criticality</h2>
      <p className="muted">
        The reasoning graph’s snapshots: the discovery parameter D (near −0.03 at the published critical state) and the share α of
        surprising edges (band 8–16%).
      </p>
      <LineChart
        title="Discovery D and surprising-edge share α by step"
        xLabel="reasoning step"
        yLabel="value"
        series={[
          { name: 'D (discovery)', points: readings.map((reading) => ({ x: reading.step, y: reading.discovery })) },
          { name: 'α (surprising share)', points: readings.map((reading) => ({ x: reading.step, y: reading.surprisingShare })) },
        ]}
      />
      <div className="table-wrap">
        <table className="compact" aria-label="Criticality readings">
          <thead>
            <tr>
              <th scope="col" className="num">
                Step
              </th>
              <th scope="col" className="num">
                Nodes
              </th>
              <th scope="col" className="num">
                Edges
              </th>
              <th scope="col" className="num">
                D
              </th>
              <th scope="col" className="num">
                α
              </th>
              <th scope="col" className="num">
                S structural
              </th>
              <th scope="col" className="num">
                S semantic
              </th>
              <th scope="col" className="num">
                Modularity
              </th>
              <th scope="col">Flags</th>
            </tr>
          </thead>
          <tbody>
            {readings.map((reading) => (
              <tr key={reading.step}>
                <td className="num">{reading.step}</td>
                <td className="num">{reading.nodes}</td>
                <td className="num">{reading.edges}</td>
                <td className="num">{fixed(reading.discovery)}</td>
                <td className="num">{fixed(reading.surprisingShare)}</td>
                <td className="num">{fixed(reading.structuralEntropy)}</td>
                <td className="num">{fixed(reading.semanticEntropy)}</td>
                <td className="num">{reading.modularity === null ? '—' : fixed(reading.modularity)}</td>
                <td>{reading.flags.length > 0 ? reading.flags.join(', ') : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
