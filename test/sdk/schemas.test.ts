import { expect } from "chai";
import { z } from "zod";
import { uintCodec, U32_MAX } from "../../offchain/sdk/schemas/codecs.js";
import { issueLines, parseOrThrow } from "../../offchain/sdk/schemas/issues.js";
import { address, bytes32, safeInt, text, uint, url } from "../../offchain/sdk/schemas/primitives.js";
import { StrataError } from "../../offchain/sdk/errors.js";

const CHECKSUMMED = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

function lines(schema: z.ZodType, input: unknown): string[] {
  const result = schema.safeParse(input);
  expect(result.success, JSON.stringify(input)).to.equal(false);
  return result.error ? issueLines(result.error) : [];
}

describe("schema primitives (offchain/sdk/schemas)", function () {
  it("test_text_trimmed: one trimming rule: text is trimmed, and empty after trimming is refused", function () {
    expect(text.parse("  a b ")).to.equal("a b");
    expect(lines(text, "   ")).to.deep.equal(["must not be empty"]);
    expect(lines(z.object({ name: text }), {})).to.deep.equal(["name: is required"]);
  });

  it("test_address_normalised: checksummed or lower case in, checksummed out; a bad checksum is refused", function () {
    expect(address.parse(CHECKSUMMED.toLowerCase())).to.equal(CHECKSUMMED);
    expect(address.parse(` ${CHECKSUMMED} `)).to.equal(CHECKSUMMED);
    expect(address.safeParse(CHECKSUMMED.replace("C51812", "c51812")).success).to.equal(false);
    expect(address.safeParse("0x1234").success).to.equal(false);
  });

  it("test_hex_fixedLength: 0x + exactly 2n hex digits, lower-cased", function () {
    expect(bytes32.parse(`0x${"AB".repeat(32)}`)).to.equal(`0x${"ab".repeat(32)}`);
    expect(bytes32.safeParse(`0x${"ab".repeat(31)}`).success).to.equal(false);
  });

  it("test_uint_decimalOrSafeInteger: decimal strings to bigint, safe integers only, bounds checked", function () {
    expect(
      uint().parse("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
    ).to.equal((1n << 256n) - 1n);
    expect(uint().parse(42)).to.equal(42n);
    for (const bad of ["-1", "1.5", "0x10", "007", 2 ** 53, 1.5, -1, ""]) {
      expect(uint().safeParse(bad).success, String(bad)).to.equal(false);
    }
    expect(uint({ max: 10n }).safeParse("11").success).to.equal(false);
    expect(uintCodec(U32_MAX).safeParse(String(2n ** 32n)).success).to.equal(false);
    expect(z.encode(uintCodec(), 12n)).to.equal("12");
  });

  it("test_safeInt_and_url: safe integers in range; URLs of the allowed schemes", function () {
    expect(safeInt(0, 10).safeParse(11).success).to.equal(false);
    expect(safeInt().safeParse(2 ** 53).success).to.equal(false);
    expect(url().parse(" http://127.0.0.1:8545 ")).to.equal("http://127.0.0.1:8545");
    expect(url().safeParse("ftp://x").success).to.equal(false);
  });

  it("test_issues_paths: every problem is one line starting with its path; StrataError with a stable code", function () {
    const schema = z.strictObject({
      a: z.object({ b: safeInt(0, 1) }),
      list: z.array(z.object({ who: address })),
      either: z.union([z.null(), z.strictObject({ x: safeInt(), y: safeInt() })]),
    });
    const input = {
      a: { b: 2 },
      list: [{ who: CHECKSUMMED }, { who: "nope" }],
      either: { x: 1 },
      extra: true,
    };
    expect(lines(schema, input)).to.deep.equal([
      "a.b: must be an integer in [0, 1]",
      "list[1].who: must be a 0x address of 20 bytes",
      "either.y: is required",
      "extra: is not a known field",
    ]);
    try {
      parseOrThrow(schema, input, "CONFIG_INVALID", "test file");
      expect.fail("no error");
    } catch (error) {
      expect(error).to.be.instanceOf(StrataError);
      expect((error as StrataError).code).to.equal("CONFIG_INVALID");
      expect((error as StrataError).message).to.match(/^invalid test file: a\.b: /);
      expect((error as StrataError).details?.split("\n")).to.have.length(4);
    }
  });
});
