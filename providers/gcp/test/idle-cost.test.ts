// What idle sessions cost on the local GCP deployment, on the real clock (docs/guarantees.md
// "Sessions", docs/providers/gcp.md): the meter counts the billable operations of a deployment
// alone, then of the same deployment with CLIENTS idle clients (their own operations on a meter of
// their own), over a window of real time, scaled to a day and priced at list prices
// (src/pricing.ts). A manual clock would run the clients' timers faster than the emulators answer.
//
// Printed: per idle client per day (its lease renewals: Pub/Sub publishes) and per deployment per
// day (the heartbeat pulling and folding the renewals, at the local 1 s cadence and per run).
import { CountingMeter } from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { FUNCTION_METER_KEYS } from '../src/functions/index.js';
import { gcpCostOf } from '../src/index.js';
import { createLocalGcpDeployment } from '../src/local/index.js';
import { whenEmulators } from './support.js';

const CLIENTS = 4;
const SESSION_TIMEOUT_MS = 10_000;
/** Six lease renewals of each client (one every third of the timeout): whole periods, no rounding. */
const WINDOW_MS = 6 * (SESSION_TIMEOUT_MS / 3);
const BASELINE_MS = 6000;
const DAY_MS = 86_400_000;
/** Runs of the heartbeat a day on GCP (Cloud Scheduler, once a minute: `deploy/configuration.ts`). */
const SCHEDULED_RUNS_PER_DAY = 1440;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `counts` (over `ms`) scaled to a day and divided by `per`, rounded to 0.1. */
function perDay(counts: Record<string, number>, ms: number, per = 1): Record<string, number> {
  return Object.fromEntries(
    Object.entries(counts).map(([k, v]) => [k, Math.round(((v * DAY_MS) / ms / per) * 10) / 10]),
  );
}

const dollars = (counts: Record<string, number>) => Number(gcpCostOf(counts).total.toPrecision(3));

whenEmulators((stack) => {
  describe('idle sessions on the local GCP deployment (real clock, session timeout 10 s)', () => {
    it('an idle client renews its session for at most $0.01 a day: one small publish per renewal, nothing through the writer', async () => {
      const deploymentMeter = new CountingMeter();
      const clientMeter = new CountingMeter();
      const d = await createLocalGcpDeployment({
        stack: stack(),
        invocation: 'pull',
        meter: deploymentMeter,
        clientMeter,
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
      });
      try {
        // The deployment alone: the heartbeat's runs.
        await sleep(1000);
        deploymentMeter.reset();
        let t0 = performance.now();
        await sleep(BASELINE_MS);
        const baselineMs = performance.now() - t0;
        const alone = deploymentMeter.snapshot();

        const clients = await Promise.all(Array.from({ length: CLIENTS }, () => d.connect()));
        await sleep(2000); // past the opening traffic
        deploymentMeter.reset();
        clientMeter.reset();
        t0 = performance.now();
        await sleep(WINDOW_MS);
        const windowMs = performance.now() - t0;
        const withClients = deploymentMeter.snapshot();
        const ofClients = clientMeter.snapshot();
        const states = clients.map((c) => c.state);
        await Promise.all(clients.map((c) => c.close()));

        const perClientDay = perDay(ofClients, windowMs, CLIENTS);
        const runs = alone[FUNCTION_METER_KEYS.invocations] ?? 0;
        const runsWith = withClients[FUNCTION_METER_KEYS.invocations] ?? 0;
        const perRun = (counts: Record<string, number>, n: number) =>
          Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / Math.max(1, n)]));
        const scheduledDay = (counts: Record<string, number>) =>
          Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v * SCHEDULED_RUNS_PER_DAY]));
        const figures = {
          clients: CLIENTS,
          windowSeconds: Math.round(windowMs / 100) / 10,
          perIdleClientPerDay: { counts: perClientDay, dollars: dollars(perClientDay) },
          perDeploymentPerDay: {
            localHeartbeatEverySecond: {
              alone: perDay(alone, baselineMs),
              aloneDollars: dollars(perDay(alone, baselineMs)),
              withIdleSessions: perDay(withClients, windowMs),
              withIdleSessionsDollars: dollars(perDay(withClients, windowMs)),
            },
            scheduledHeartbeatEveryMinute: {
              perRunWithIdleSessions: perRun(withClients, runsWith),
              aloneDollars: dollars(scheduledDay(perRun(alone, runs))),
              withIdleSessionsDollars: dollars(scheduledDay(perRun(withClients, runsWith))),
            },
          },
        };
        console.log(`idle sessions on the local GCP deployment: ${JSON.stringify(figures, null, 1)}`);

        expect(states, 'every idle session stayed CONNECTED').toEqual(Array(CLIENTS).fill('CONNECTED'));
        // Six renewals per client in the window, one publish request each (a timer may slip past
        // the window's end by the emulator's latency: then five); nothing else from the clients.
        const publishes = ofClients['pubsub.publish-requests'] ?? 0;
        expect(publishes).toBeGreaterThanOrEqual(5 * CLIENTS);
        expect(publishes).toBeLessThanOrEqual(6 * CLIENTS);
        expect(ofClients['datastore.entity-writes'] ?? 0).toBe(0);
        // No request went through the writer: the functions ran no more often than the heartbeat
        // alone does (a ping would invoke the writer and the distributor).
        const rate = (counts: Record<string, number>, ms: number) =>
          (counts[FUNCTION_METER_KEYS.invocations] ?? 0) / ms;
        expect(rate(withClients, windowMs)).toBeLessThanOrEqual(
          rate(alone, baselineMs) * 1.25 + 1 / windowMs,
        );
        // The bar of the issue: an idle client costs at most $0.01 a day.
        expect(figures.perIdleClientPerDay.dollars).toBeLessThanOrEqual(0.01);
      } finally {
        await d.close();
      }
    }, 90_000);
  });
});
