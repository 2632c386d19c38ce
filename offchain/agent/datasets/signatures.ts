/** Off-chain check of a client's EIP-712 signature: ECDSA, or ERC-1271 approval when the client is a contract. */
import { Contract, TypedDataEncoder, verifyTypedData, type TypedDataField } from "ethers";
import { dataSetDomain } from "../../sdk/datasets/eip712.js";
import type { AgentContext } from "../context.js";

const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271_ABI = ["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"];

/** Whether `signature` is `signer`'s signature of `value` (typed by `types`) in the market's EIP-712 domain. */
export async function signedBy(
  ctx: AgentContext,
  signer: string,
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
  signature: string,
): Promise<boolean> {
  const domain = dataSetDomain(ctx.chain.chainId, ctx.config.deployment.market);
  let recovered: string | undefined;
  try {
    recovered = verifyTypedData(domain, types, value, signature);
  } catch {
    recovered = undefined;
  }
  if (recovered?.toLowerCase() === signer.toLowerCase()) return true;
  if ((await ctx.chain.provider.getCode(signer)) === "0x") return false;
  try {
    const digest = TypedDataEncoder.hash(domain, types, value);
    const wallet = new Contract(signer, ERC1271_ABI, ctx.chain.provider);
    const magic = (await wallet.getFunction("isValidSignature").staticCall(digest, signature)) as string;
    return magic.toLowerCase() === ERC1271_MAGIC;
  } catch {
    return false; // not a valid contract signature
  }
}
