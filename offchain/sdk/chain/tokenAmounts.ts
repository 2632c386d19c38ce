/**
 * Amounts in messages: tokens with the token's symbol, never bare base units. Error paths ask the token for its
 * decimals and symbol only when they need them; the base units stay available as `<name>Raw` figures.
 */
import { formatTokens } from "../datasets/money.js";
import type { PaymentToken } from "./connect.js";

/** A token that may be able to say its decimals and symbol (test doubles often cannot). */
export type DescribableToken = Partial<Pick<PaymentToken, "decimals" | "symbol">>;

/** Formats base units as "<tokens> <symbol>"; "<n> base units" when the token cannot say its decimals. */
export type TokenAmountFormat = (units: bigint) => string;

/** The token's amount format, read from the chain. */
export async function tokenAmountFormat(token: DescribableToken): Promise<TokenAmountFormat> {
  if (token.decimals === undefined) return (units) => `${units} base units`;
  try {
    const decimals = Number(await token.decimals());
    const symbol = token.symbol === undefined ? "tokens" : await token.symbol().catch(() => "tokens");
    return (units) => `${formatTokens(units, decimals)} ${symbol}`;
  } catch {
    return (units) => `${units} base units`;
  }
}

/** `{ <name>Raw: "<base units>" }` for every amount: the machine-readable side of an amount in a message. */
export function rawAmounts(amounts: Record<string, bigint>): Record<string, string> {
  return Object.fromEntries(Object.entries(amounts).map(([name, units]) => [`${name}Raw`, units.toString()]));
}
