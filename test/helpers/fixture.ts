// The tests' deployment fixture is the in-process suite that the gas benchmark also measures
// (scripts/lib/inProcessSuite.ts): tests may import scripts/, scripts never import test/.
export * from "../../scripts/lib/inProcessSuite.js";
