// Data sets in the SDK (docs/SPEC.md, "Data sets"): one module per concern, re-exported here.
//   placement     where pieces sit in a data set's leaf space (aligned subtrees), span
//   tree          the data-set Merkle tree from piece roots: root, inclusion paths, verification
//   eip712        CreateDataSet, DataSetState and SessionKeyScope messages: types, digests, signing, recovery
//   money         exact prices: accrual, due, lockup, class collateral, token display
//   draw          the challenge draw of a provider's period (mirror of the market)
//   versionedWord the copy-on-write word of the epoch rule
//   replay        the market's classes and slots rebuilt from events; the frozen state of a period
//   proofAnswer   answering and checking one challenge
//   sessionKeys   whether a session key may sign a state
//   versions      newest signed state wins
export * from "./placement.js";
export * from "./tree.js";
export * from "./eip712.js";
export * from "./money.js";
export * from "./draw.js";
export * from "./versionedWord.js";
export * from "./replay.js";
export * from "./proofAnswer.js";
export * from "./sessionKeys.js";
export * from "./versions.js";
