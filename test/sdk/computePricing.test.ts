import { expect } from "chai";
import {
  closeReasonIndex,
  closeReasonName,
  decodeLabel,
  encodeLabel,
  orderStatusName,
  requestFromJson,
  requestToJson,
  type ComputeResources,
  type OrderRequest,
} from "../../offchain/sdk/compute/orders.js";
import {
  costPerSecond,
  depositFor,
  formatScaledPrice,
  fundedSeconds,
  parseScaledPrice,
  perHourToPerSecond,
  perSecondToPerHour,
  PRICE_SCALE,
  withMargin,
  type ResourcePrices,
} from "../../offchain/sdk/compute/pricing.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const PRICES: ResourcePrices = {
  perMillicoreSecond: PRICE_SCALE / 100n, // 0.01 unit
  perMiBSecond: PRICE_SCALE / 1000n, // 0.001 unit
  perStorageGiBSecond: 0n,
  perGpuSecond: { "a100-80gb": 50n * PRICE_SCALE, t4: 10n * PRICE_SCALE },
};

const resources = (overrides: Partial<ComputeResources> = {}): ComputeResources => ({
  cpuMillicores: 500,
  memoryMiB: 1024,
  storageGiB: 0,
  gpuCount: 0,
  gpuModel: "",
  region: "",
  ...overrides,
});

describe("compute price math and order encoding", function () {
  it("prices resources in fractions of a base unit and rounds the total up", function () {
    // 500 × 0.01 + 1024 × 0.001 = 6.024 -> 7 units per second
    expect(costPerSecond(resources(), PRICES)).to.deep.equal({ ok: true, costPerSecond: 7n, gpuModel: null });
    expect(costPerSecond(resources({ cpuMillicores: 100, memoryMiB: 0 }), PRICES)).to.deep.equal({
      ok: true,
      costPerSecond: 1n,
      gpuModel: null,
    });
  });

  it("prices GPUs by model, picking the cheapest priced model for 'any'", function () {
    expect(costPerSecond(resources({ gpuCount: 2, gpuModel: "a100-80gb" }), PRICES)).to.deep.include({
      costPerSecond: 107n,
      gpuModel: "a100-80gb",
    });
    expect(costPerSecond(resources({ gpuCount: 2 }), PRICES)).to.deep.include({
      costPerSecond: 27n,
      gpuModel: "t4",
    });
    expect(costPerSecond(resources({ gpuCount: 2 }), PRICES, ["a100-80gb"])).to.deep.include({
      gpuModel: "a100-80gb",
    });
    expect(costPerSecond(resources({ gpuCount: 1, gpuModel: "h100" }), PRICES)).to.deep.equal({
      ok: false,
      reason: "gpu-model",
    });
  });

  it("applies the margin rounding up, and converts per-hour prices rounding down", function () {
    expect(withMargin(100n, 2000)).to.equal(120n);
    expect(withMargin(7n, 2000)).to.equal(9n); // 8.4 -> 9
    expect(withMargin(0n, 5000)).to.equal(0n);
    expect(perHourToPerSecond(3_600_000n)).to.equal(1000n);
    expect(perHourToPerSecond(3_599n)).to.equal(0n);
    expect(perSecondToPerHour(7n)).to.equal(25_200n);
    expect(fundedSeconds(1000n, 7n)).to.equal(142n);
    expect(fundedSeconds(1000n, 0n)).to.equal(0n);
    expect(depositFor(7n, 3600n, 1_000_000n)).to.equal(1_025_200n);
  });

  it("reads and writes decimal prices with up to 9 decimals", function () {
    expect(parseScaledPrice("0.005")).to.equal(5_000_000n);
    expect(parseScaledPrice("12")).to.equal(12n * PRICE_SCALE);
    expect(parseScaledPrice("0.0000000001")).to.equal(undefined);
    expect(parseScaledPrice("-1")).to.equal(undefined);
    expect(parseScaledPrice("1e3")).to.equal(undefined);
    expect(formatScaledPrice(5_000_000n)).to.equal("0.005");
    expect(formatScaledPrice(12n * PRICE_SCALE)).to.equal("12");
    expect(formatScaledPrice(parseScaledPrice("3.000000001") ?? 0n)).to.equal("3.000000001");
  });

  it("encodes labels as right-padded bytes16 and back", function () {
    expect(encodeLabel("eu-west")).to.equal(`0x${Buffer.from("eu-west").toString("hex").padEnd(32, "0")}`);
    expect(encodeLabel("")).to.equal(`0x${"0".repeat(32)}`);
    expect(decodeLabel(encodeLabel("a100-80gb"))).to.equal("a100-80gb");
    expect(decodeLabel(`0x${"0".repeat(32)}`)).to.equal("");
    expect(decodeLabel(encodeLabel("p"))).to.equal("p");
    for (const bad of ["x".repeat(17), "café"]) {
      let code: string | undefined;
      try {
        encodeLabel(bad);
      } catch (error) {
        code = (error as StrataError).code;
      }
      expect(code).to.equal("INVALID_ARGUMENT");
    }
  });

  it("names the market's enums and round-trips an order request through JSON", function () {
    expect(closeReasonName(4n)).to.equal("InsufficientFunds");
    expect(closeReasonName(9)).to.equal("unknown");
    expect(closeReasonIndex("Expired")).to.equal(5);
    expect(orderStatusName(2n)).to.equal("filled");
    const request: OrderRequest = {
      resources: resources({ region: "eu-west" }),
      workloadHash: `0x${"ab".repeat(32)}`,
      maxPricePerSecond: 10n,
      deposit: (1n << 100n) + 1n,
      duration: 0n,
      expiresAt: 1_900_000_000n,
      minCollateral: 5n,
      minNoticeWindow: 60n,
    };
    expect(
      requestFromJson(JSON.parse(JSON.stringify(requestToJson(request))) as ReturnType<typeof requestToJson>),
    ).to.deep.equal(request);
  });
});
