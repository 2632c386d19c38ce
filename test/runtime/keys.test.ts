import { expect } from "chai";
import { JsonRpcProvider, Network } from "ethers";
import {
  devKeysAllowed,
  keySourceFromConfig,
  loadConnectedSigner,
  loadSigner,
} from "../../offchain/runtime/keys.js";
import { isLocalChain, LOCAL_CHAIN_IDS } from "../../offchain/sdk/chain/connect.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const HARDHAT_ACCOUNT_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
const HARDHAT_ACCOUNT_1 = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

describe("signing keys", () => {
  it("derives Hardhat dev accounts on the local chain", () => {
    expect(loadSigner({ kind: "account", index: 0 }, { chainId: 31337n }).address).to.equal(
      HARDHAT_ACCOUNT_0,
    );
    expect(loadSigner({ kind: "account", index: 1 }, { chainId: 31337n }).address).to.equal(
      HARDHAT_ACCOUNT_1,
    );
  });

  it("refuses dev accounts on other chains unless allowed", () => {
    expect(() => loadSigner({ kind: "account", index: 0 }, { chainId: 1n }))
      .to.throw()
      .with.property("code", "KEY_REFUSED");
    const allowed = loadSigner({ kind: "account", index: 0 }, { chainId: 1n, allowDevKeys: true });
    expect(allowed.address).to.equal(HARDHAT_ACCOUNT_0);
  });

  it("reads a private key from the environment variable", () => {
    const key = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    const signer = loadSigner({ kind: "env", variable: "MY_KEY" }, { chainId: 1n, env: { MY_KEY: key } });
    expect(signer.address).to.equal(HARDHAT_ACCOUNT_0);
    const bare = loadSigner(
      { kind: "env", variable: "MY_KEY" },
      { chainId: 1n, env: { MY_KEY: key.slice(2) } },
    );
    expect(bare.address).to.equal(HARDHAT_ACCOUNT_0);
  });

  it("reports KEY_MISSING for an unset variable and INVALID_ARGUMENT for a malformed key", () => {
    expect(() => loadSigner({ kind: "env", variable: "NOPE" }, { chainId: 1n, env: {} }))
      .to.throw()
      .with.property("code", "KEY_MISSING");
    expect(() => loadSigner({ kind: "env", variable: "K" }, { chainId: 1n, env: { K: "0x1234" } }))
      .to.throw()
      .with.property("code", "INVALID_ARGUMENT");
  });

  it("one rule for dev accounts: every local chain id (31337, 1337) allows them, no other does", () => {
    for (const chainId of LOCAL_CHAIN_IDS) {
      expect(isLocalChain(chainId)).to.equal(true);
      expect(devKeysAllowed(chainId)).to.equal(true);
      expect(loadSigner({ kind: "account", index: 0 }, { chainId }).address).to.equal(HARDHAT_ACCOUNT_0);
    }
    expect([...LOCAL_CHAIN_IDS].sort()).to.deep.equal([1337n, 31337n]);
    for (const chainId of [1n, 10n, 8453n, 11155111n, 31338n]) {
      expect(isLocalChain(chainId)).to.equal(false);
      expect(devKeysAllowed(chainId)).to.equal(false);
      expect(devKeysAllowed(chainId, true)).to.equal(true);
      expect(() => loadSigner({ kind: "account", index: 3 }, { chainId }))
        .to.throw(StrataError)
        .with.property("code", "KEY_REFUSED");
    }
  });

  it("refuses a negative or fractional account index (INVALID_ARGUMENT)", () => {
    for (const index of [-1, 1.5, Number.NaN]) {
      expect(() => loadSigner({ kind: "account", index }, { chainId: 31337n }))
        .to.throw(StrataError)
        .with.property("code", "INVALID_ARGUMENT");
    }
  });

  it("maps the agent's and the worker's configured key onto a key source", () => {
    expect(keySourceFromConfig({ env: "STRATA_PRIVATE_KEY" })).to.deep.equal({
      kind: "env",
      variable: "STRATA_PRIVATE_KEY",
    });
    expect(keySourceFromConfig({ account: 4 })).to.deep.equal({ kind: "account", index: 4 });
  });

  it("a service's key: the chain id comes from its provider, and the wallet is connected to it", async () => {
    const local = new JsonRpcProvider("http://127.0.0.1:9", Network.from(1337n), { staticNetwork: true });
    const remote = new JsonRpcProvider("http://127.0.0.1:9", Network.from(1n), { staticNetwork: true });
    try {
      const signer = await loadConnectedSigner({ kind: "account", index: 1 }, local);
      expect(signer.address).to.equal(HARDHAT_ACCOUNT_1);
      expect(signer.provider).to.equal(local);
      const refused = await loadConnectedSigner({ kind: "account", index: 1 }, remote).catch(
        (error: unknown) => error,
      );
      expect(refused).to.be.instanceOf(StrataError).with.property("code", "KEY_REFUSED");
      const allowed = await loadConnectedSigner({ kind: "account", index: 1 }, remote, {
        allowDevKeys: true,
      });
      expect(allowed.address).to.equal(HARDHAT_ACCOUNT_1);
    } finally {
      local.destroy();
      remote.destroy();
    }
  });
});
