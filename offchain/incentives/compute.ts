/**
 * Compute provider (and tenant) deviations under the reserved no-notice penalty (incentives design C1–C3), in
 * closed form, for one lease of the scenario: price per second, the share of it that running the workload costs,
 * collateral and notice window. Honest behaviour is to run the workload, heartbeat every period and leave with
 * notice; every gain and loss is measured against that.
 *
 * Rules modelled: only heartbeated time is paid; a reported missed period slashes `missedHeartbeatPenalty` from
 * the lease's collateral above the reserved `noNoticePenaltyBps` of the collateral at acceptance (the reporter,
 * who may be the provider, keeps `reporterShareBps`); `maxMissedHeartbeats` misses close the lease with the
 * larger of the reserve and `missedHeartbeatsPenaltyBps` of what remains; closing without notice slashes the reserved penalty; an overdrawn
 * lease is closed by anyone for the close bounty.
 */
import { tokensPerGas, type ModelGas } from "./gas.js";
import { BPS, MONTH_SECONDS, type ParameterSet, type Scenario } from "./parameters.js";
import { RESIDUAL_DEVIATIONS, type ComputeDeviation, type DeviationResult } from "./deviation.js";

const bps = (value: number) => value / BPS;

export interface LeaseContext {
  price: number;
  runCost: number;
  collateral: number;
  reserve: number;
  notice: number;
  period: number;
  heartbeatTokens: number;
  horizonSeconds: number;
}

export function leaseContext(set: ParameterSet, scenario: Scenario, gas: ModelGas): LeaseContext {
  const c = set.compute;
  return {
    price: scenario.leasePricePerSecond,
    runCost: scenario.leasePricePerSecond * scenario.leaseCostShare,
    collateral: scenario.leaseCollateral,
    reserve: bps(c.noNoticePenaltyBps) * scenario.leaseCollateral,
    notice: scenario.leaseNoticeSeconds,
    period: c.heartbeatPeriod,
    heartbeatTokens: gas.heartbeat * tokensPerGas(scenario.gwei, scenario.ethPrice),
    horizonSeconds: scenario.horizonMonths * MONTH_SECONDS,
  };
}

/** Heartbeat penalties of `count` reported periods: never into the reserve (C1, C2). */
function heartbeatPenalty(set: ParameterSet, lease: LeaseContext, count: number): number {
  return Math.min(count * set.compute.missedHeartbeatPenalty, Math.max(0, lease.collateral - lease.reserve));
}

export function computeDeviation(
  name: ComputeDeviation,
  set: ParameterSet,
  scenario: Scenario,
  gas: ModelGas,
): DeviationResult {
  const lease = leaseContext(set, scenario, gas);
  const share = bps(set.compute.reporterShareBps);
  const base = {
    deviation: name,
    market: "compute" as const,
    residual: RESIDUAL_DEVIATIONS.includes(name),
  };
  // What leaving honestly (notice, run and heartbeat through it) earns net, per second of notice.
  const noticeHeartbeats = lease.notice / lease.period;
  switch (name) {
    case "heartbeat-without-work":
      return {
        ...base,
        gain: lease.runCost * Math.min(lease.horizonSeconds, scenario.tenantDetectSeconds),
        loss: 0,
        strategy: "heartbeat every period, run nothing until the tenant notices",
      };
    case "leave-without-notice":
      return {
        ...base,
        gain: lease.runCost * lease.notice + noticeHeartbeats * lease.heartbeatTokens,
        loss: lease.price * lease.notice + lease.reserve,
        strategy: "close ProviderWithoutNotice instead of serving the notice",
      };
    case "go-dark": {
      const limit = set.compute.maxMissedHeartbeats;
      const slashed = heartbeatPenalty(set, lease, limit);
      // The MissedHeartbeats close slashes the larger of the reserve and missedHeartbeatsPenaltyBps of what remains.
      const remaining = lease.collateral - slashed;
      const closing = Math.max(
        Math.min(lease.reserve, remaining),
        bps(set.compute.missedHeartbeatsPenaltyBps) * remaining,
      );
      return {
        ...base,
        gain: lease.runCost * lease.notice + noticeHeartbeats * lease.heartbeatTokens + share * slashed,
        loss: lease.price * lease.notice + slashed + closing,
        strategy: `stop (workload and heartbeats) and report the ${limit} misses yourself`,
      };
    }
    case "tenant-griefing":
      // The tenant stops paying: it is served unpaid until the provider closes the overdrawn lease, and loses
      // the close bounty to the closer.
      return {
        ...base,
        gain: lease.price * scenario.overdraftCloseSeconds,
        loss: set.compute.closeBounty,
        strategy: "tenant stops topping up; provider closes the overdrawn lease for the close bounty",
      };
    case "self-report-heartbeats": {
      // C3: skip j periods, report them from another address, then close without notice.
      let best: { gain: number; loss: number; j: number } | undefined;
      const top = Math.max(1, set.compute.maxMissedHeartbeats - 1);
      for (let j = 1; j <= top; j++) {
        const slashed = heartbeatPenalty(set, lease, j);
        const seconds = j * lease.period + lease.notice;
        const r = {
          gain: share * slashed + lease.runCost * seconds + (seconds / lease.period) * lease.heartbeatTokens,
          loss: slashed + lease.reserve + lease.price * seconds,
          j,
        };
        if (best === undefined || r.gain - r.loss > best.gain - best.loss) best = r;
      }
      if (best === undefined) throw new Error("no strategy to evaluate");
      return {
        ...base,
        gain: best.gain,
        loss: best.loss,
        strategy: `skip ${best.j} period(s), report them yourself, close without notice`,
      };
    }
  }
}
