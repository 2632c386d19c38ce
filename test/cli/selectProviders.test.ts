import { expect } from "chai";
import { getAddress } from "ethers";
import { StrataError } from "../../offchain/sdk/errors.js";
import type { AgentHealth, AgentTerms } from "../../offchain/sdk/client/agentClient.js";
import { classCollateral } from "../../offchain/sdk/datasets/money.js";
import {
  selectProviders,
  TIB,
  type RegistryReader,
  type SelectProvidersRequest,
} from "../../offchain/sdk/client/selectProviders.js";
import { expectCode, must } from "./helpers/httpServer.js";

const MARKET = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const PERIOD = 3600n;

interface FakeProvider {
  address: string;
  endpoint: string;
  registered?: boolean;
  free?: bigint;
  terms?: Partial<AgentTerms>;
  health?: Partial<AgentHealth>;
  down?: boolean;
}

function addr(n: number): string {
  return getAddress(`0xa${n.toString(16).padStart(39, "0")}`);
}

function fakes(providers: FakeProvider[]) {
  const byAddress = new Map(providers.map((p) => [p.address.toLowerCase(), p]));
  const byEndpoint = new Map(providers.map((p) => [p.endpoint, p]));
  const registry: RegistryReader = {
    providerCount: () => Promise.resolve(BigInt(providers.length)),
    providerAt: (i) => Promise.resolve(must(providers[Number(i)]).address),
    providerInfo: (a) => {
      const p = byAddress.get(a.toLowerCase());
      return Promise.resolve({
        registered: p?.registered ?? p !== undefined,
        endpoint: p?.endpoint ?? "",
        pricePerTiBMonth: 0n,
      });
    },
    stakeInfo: (a) => Promise.resolve({ free: byAddress.get(a.toLowerCase())?.free ?? 1_000_000_000n }),
  };
  const agentFor = (endpoint: string) => {
    const p = must(byEndpoint.get(endpoint));
    const fail = () => Promise.reject(new StrataError("PROVIDER_UNREACHABLE", `cannot reach ${endpoint}`));
    return {
      health: () =>
        p.down === true
          ? fail()
          : Promise.resolve({
              ok: true,
              provider: p.address,
              chainId: 31337n,
              market: MARKET,
              version: "1",
              ...p.health,
            }),
      terms: () =>
        p.down === true
          ? fail()
          : Promise.resolve({
              provider: p.address,
              chainId: 31337n,
              market: MARKET,
              pricePerTiBMonth: 2_000_000n,
              collateralPerTiB: 10_000_000n,
              noticePeriods: 2n,
              maxPieceBytes: 1n << 30n,
              provingPeriod: PERIOD,
              endpoint: p.endpoint,
              ...p.terms,
            }),
    };
  };
  return { registry, agentFor };
}

function request(overrides: Partial<SelectProvidersRequest> = {}): SelectProvidersRequest {
  return {
    count: 2,
    pieceSize: 1n << 20n,
    chainId: 31337n,
    market: MARKET,
    provingPeriod: PERIOD,
    maxPricePerTiBMonth: null,
    minCollateralPerTiB: 0n,
    ...overrides,
  };
}

describe("provider selection", () => {
  it("keeps usable providers, cheapest first, and explains every rejection", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a", terms: { pricePerTiBMonth: 9n * TIB } },
      { address: addr(2), endpoint: "http://b", terms: { pricePerTiBMonth: 1n * TIB } },
      { address: addr(3), endpoint: "http://c", down: true },
      { address: addr(4), endpoint: "http://d", health: { chainId: 1n } },
      { address: addr(5), endpoint: "http://e", free: 1n },
      { address: addr(6), endpoint: "http://f", registered: false },
      { address: addr(7), endpoint: "http://g", terms: { maxPieceBytes: 1000n } },
      { address: addr(8), endpoint: "http://h", terms: { pricePerTiBMonth: 5n * TIB } },
      { address: addr(9), endpoint: "http://i", health: { provider: addr(1) } },
    ];
    const selection = await selectProviders(request(), fakes(providers));
    expect(selection.chosen.map((o) => o.address)).to.deep.equal([addr(2), addr(8)]);
    expect(selection.spares.map((o) => o.address)).to.deep.equal([addr(1)]);
    expect(selection.rejected.map((r) => r.address).sort()).to.deep.equal(
      [addr(3), addr(4), addr(5), addr(6), addr(7), addr(9)].sort(),
    );
    for (const r of selection.rejected) expect(r.reason).to.be.a("string").and.not.equal("");
    const cheapest = selection.chosen[0];
    // A 1 MiB piece is 2^14 leaves: its data set is in class 14 and locks that class's capacity.
    expect(cheapest?.collateral).to.equal(classCollateral(10_000_000n, 14));
  });

  it("applies the client's maximum price and minimum collateral", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a", terms: { pricePerTiBMonth: 100n } },
      { address: addr(2), endpoint: "http://b", terms: { pricePerTiBMonth: 300n } },
      { address: addr(3), endpoint: "http://c", terms: { pricePerTiBMonth: 50n, collateralPerTiB: 1n } },
    ];
    const selection = await selectProviders(
      request({ count: 1, maxPricePerTiBMonth: 200n, minCollateralPerTiB: 5n }),
      fakes(providers),
    );
    expect(selection.chosen.map((o) => o.address)).to.deep.equal([addr(1)]);
    expect(selection.rejected).to.have.length(2);
  });

  it("reports NOT_ENOUGH_PROVIDERS when fewer than k + m qualify", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a" },
      { address: addr(2), endpoint: "http://b", down: true },
    ];
    const error = await expectCode(
      selectProviders(request({ count: 2 }), fakes(providers)),
      "NOT_ENOUGH_PROVIDERS",
    );
    expect(error.details).to.contain(addr(2));
  });

  it("skips excluded providers", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a" },
      { address: addr(2), endpoint: "http://b" },
    ];
    const selection = await selectProviders(
      request({ count: 1, exclude: new Set([addr(1)]) }),
      fakes(providers),
    );
    expect(selection.chosen.map((o) => o.address)).to.deep.equal([addr(2)]);
  });

  it("honours an explicit list (addresses or endpoints) in its order, extras as spares", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a", terms: { pricePerTiBMonth: 1n } },
      { address: addr(2), endpoint: "http://b", terms: { pricePerTiBMonth: 9n * TIB } },
      { address: addr(3), endpoint: "http://c" },
    ];
    const selection = await selectProviders(
      request({ count: 2, providers: ["http://c/", addr(2), addr(1)] }),
      fakes(providers),
    );
    expect(selection.chosen.map((o) => o.address)).to.deep.equal([addr(3), addr(2)]);
    expect(selection.spares.map((o) => o.address)).to.deep.equal([addr(1)]);
  });

  it("refuses an explicit provider that cannot be used (PROVIDER_UNUSABLE)", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a" },
      { address: addr(2), endpoint: "http://b", down: true },
    ];
    await expectCode(
      selectProviders(request({ providers: [addr(1), addr(2)] }), fakes(providers)),
      "PROVIDER_UNUSABLE",
    );
    await expectCode(
      selectProviders(request({ providers: [addr(1), "http://unknown"] }), fakes(providers)),
      "PROVIDER_UNUSABLE",
    );
  });

  it("rejects an explicit list that is too short, repeats a provider or is not addresses/URLs", async () => {
    const providers: FakeProvider[] = [
      { address: addr(1), endpoint: "http://a" },
      { address: addr(2), endpoint: "http://b" },
    ];
    await expectCode(
      selectProviders(request({ count: 2, providers: [addr(1)] }), fakes(providers)),
      "INVALID_ARGUMENT",
    );
    await expectCode(
      selectProviders(request({ count: 2, providers: [addr(1), addr(1).toLowerCase()] }), fakes(providers)),
      "INVALID_ARGUMENT",
    );
    await expectCode(
      selectProviders(request({ count: 1, providers: ["provider-one"] }), fakes(providers)),
      "INVALID_ARGUMENT",
    );
  });
});
