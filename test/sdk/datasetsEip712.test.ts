import { expect } from "chai";
import { AbiCoder, TypedDataEncoder, Wallet, concat, keccak256, toUtf8Bytes } from "ethers";
import {
  CREATE_DATA_SET_TYPE,
  DATA_SET_STATE_TYPE,
  SESSION_KEY_SCOPE_TYPE,
  createDataSetDigest,
  createDataSetStructHash,
  dataSetDomain,
  dataSetStateDigest,
  dataSetStateStructHash,
  isDataSetStateSignedBy,
  recoverCreateDataSetSigner,
  recoverDataSetStateSigner,
  recoverSessionKeyScopeSigner,
  sessionKeyScopeDigest,
  signCreateDataSet,
  signDataSetState,
  signSessionKeyScope,
  type CreateDataSet,
  type DataSetState,
  type SessionKeyScope,
} from "../../offchain/sdk/datasets/eip712.js";

// Fixed vectors: the market's tests compare its _hashTypedDataV4 results against these digests.
const MARKET = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CLIENT = new Wallet("0x" + "11".repeat(32));
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const domain = dataSetDomain(31337n, MARKET);

const terms: CreateDataSet = {
  client: CLIENT.address,
  provider: PROVIDER,
  pricePerTiBMonth: 2_500_000n,
  collateralPerTiB: 10_000_000n,
  noticePeriods: 7n,
  nonce: 42n,
  deadline: 1_900_000_000n,
};
const state: DataSetState = { dataSetId: 3n, version: 9n, root: "0x" + "ab".repeat(32), span: 1_048_577n };
const scope: SessionKeyScope = {
  client: CLIENT.address,
  key: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
  provider: "0x0000000000000000000000000000000000000000",
  maxSpan: 1n << 34n,
  expiry: 1_900_000_000n,
};
const coder = AbiCoder.defaultAbiCoder();

describe("data-set EIP-712 messages (offchain/sdk/datasets/eip712.ts)", function () {
  it("spell the type strings the market hashes", function () {
    expect(CREATE_DATA_SET_TYPE).to.equal(
      "CreateDataSet(address client,address provider,uint128 pricePerTiBMonth,uint128 collateralPerTiB," +
        "uint32 noticePeriods,uint64 nonce,uint64 deadline)",
    );
    expect(DATA_SET_STATE_TYPE).to.equal(
      "DataSetState(uint64 dataSetId,uint64 version,bytes32 root,uint64 span)",
    );
    expect(SESSION_KEY_SCOPE_TYPE).to.equal(
      "SessionKeyScope(address client,address key,address provider,uint64 maxSpan,uint64 expiry)",
    );
  });

  it("bind the domain {Strata StorageMarket, 2, chainId, market}", function () {
    expect(domain).to.deep.equal({
      name: "Strata StorageMarket",
      version: "2",
      chainId: 31337n,
      verifyingContract: MARKET,
    });
    const separator = keccak256(
      coder.encode(
        ["bytes32", "bytes32", "bytes32", "uint256", "address"],
        [
          keccak256(
            toUtf8Bytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
          ),
          keccak256(toUtf8Bytes("Strata StorageMarket")),
          keccak256(toUtf8Bytes("2")),
          31337n,
          MARKET,
        ],
      ),
    );
    expect(TypedDataEncoder.hashDomain(domain)).to.equal(separator);
  });

  it("hash structs as keccak256(abi.encode(typeHash, fields...)) and digests as 0x1901 ‖ domain ‖ struct", function () {
    const stateHash = keccak256(
      coder.encode(
        ["bytes32", "uint64", "uint64", "bytes32", "uint64"],
        [keccak256(toUtf8Bytes(DATA_SET_STATE_TYPE)), state.dataSetId, state.version, state.root, state.span],
      ),
    );
    expect(dataSetStateStructHash(state)).to.equal(stateHash);
    expect(dataSetStateDigest(domain, state)).to.equal(
      keccak256(concat(["0x1901", TypedDataEncoder.hashDomain(domain), stateHash])),
    );
    const termsHash = keccak256(
      coder.encode(
        ["bytes32", "address", "address", "uint128", "uint128", "uint32", "uint64", "uint64"],
        [
          keccak256(toUtf8Bytes(CREATE_DATA_SET_TYPE)),
          terms.client,
          terms.provider,
          terms.pricePerTiBMonth,
          terms.collateralPerTiB,
          terms.noticePeriods,
          terms.nonce,
          terms.deadline,
        ],
      ),
    );
    expect(createDataSetStructHash(terms)).to.equal(termsHash);
  });

  it("give stable digests (fixed vectors)", function () {
    expect({
      create: createDataSetDigest(domain, terms),
      state: dataSetStateDigest(domain, state),
      scope: sessionKeyScopeDigest(domain, scope),
    }).to.deep.equal(VECTORS);
  });

  it("change the digest with the chain, the market, the nonce and the version", function () {
    const digest = dataSetStateDigest(domain, state);
    expect(dataSetStateDigest(dataSetDomain(1n, MARKET), state)).to.not.equal(digest);
    expect(dataSetStateDigest(dataSetDomain(31337n, PROVIDER), state)).to.not.equal(digest);
    expect(dataSetStateDigest(domain, { ...state, version: 10n })).to.not.equal(digest);
    expect(createDataSetDigest(domain, { ...terms, nonce: 43n })).to.not.equal(
      createDataSetDigest(domain, terms),
    );
  });

  it("sign and recover every message", async function () {
    const sessionKey = new Wallet("0x" + "22".repeat(32));
    const termsSignature = await signCreateDataSet(CLIENT, domain, terms);
    expect(recoverCreateDataSetSigner(domain, terms, termsSignature)).to.equal(CLIENT.address);
    const stateSignature = await signDataSetState(sessionKey, domain, state);
    expect(recoverDataSetStateSigner(domain, state, stateSignature)).to.equal(sessionKey.address);
    expect(isDataSetStateSignedBy(domain, state, stateSignature, sessionKey.address.toLowerCase())).to.be
      .true;
    expect(isDataSetStateSignedBy(domain, { ...state, span: 1n }, stateSignature, sessionKey.address)).to.be
      .false;
    expect(isDataSetStateSignedBy(domain, state, "0x1234", sessionKey.address)).to.be.false;
    const scopeSignature = await signSessionKeyScope(CLIENT, domain, scope);
    expect(recoverSessionKeyScopeSigner(domain, scope, scopeSignature)).to.equal(CLIENT.address);
  });
});

const VECTORS = {
  create: "0x8a55740c2d2eec9fc8e0d00fc70c389b7dd39403b76bd9086513d29d362323a1",
  state: "0x34b7200d9e4f34871f1216b0078626f9bf4fd2c3dc3fee6e4c4e9149facb0162",
  scope: "0xea928abc0d7cee4e1a112ae894e5c9b83219223eb97c735eb0b38d599789e578",
};
