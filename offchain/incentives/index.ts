/**
 * The incentive model (issue 12): whether, for a deployment's parameters and a provider's terms, every modelled
 * deviation of a storage or compute provider pays less than honesty, and whether honesty pays at all. Pure
 * functions, no chain access; `npm run incentives` (scripts/incentives.ts) runs it on deploy/parameters/*.json.
 */
export * from "./compute.js";
export * from "./deviation.js";
export * from "./gas.js";
export * from "./monteCarlo.js";
export * from "./parameters.js";
export * from "./participation.js";
export * from "./probability.js";
export * from "./report.js";
export * from "./storage.js";
