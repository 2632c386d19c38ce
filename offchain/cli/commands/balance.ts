import { Option, type Command } from "commander";
import { ICreditLedger__factory, PermanentStorage__factory } from "../../../typechain-types/index.js";
import { findDataSetIds, readDataSet } from "../../sdk/client/dataSets.js";
import { computeMarketOf, leaseStatus, marketEntries } from "../../sdk/compute/market.js";
import { amountsJson, tokenJson } from "../format/units.js";
import { withdrawClientFunds } from "../../sdk/client/withdraw.js";
import { PermanentFileStatus } from "../../sdk/chain/enums.js";
import { permanentStorageAddress } from "../../sdk/durability/permanent.js";
import { StrataError } from "../../sdk/errors.js";
import type { CliContext } from "../context.js";
import { decimalAmount, uintList } from "../parse.js";
import type { Runner } from "../runner.js";
import { confirmTransaction } from "../../sdk/chain/confirm.js";

export function registerBalanceCommands(program: Command, run: Runner): void {
  program
    .command("balance")
    .description(
      "show the signing account's tokens: in the wallet, in the market (refunds, earnings; funds top-ups " +
        "first), locked in its data sets' and leases' escrow (and what of it is withdrawable), its stake as a " +
        "provider, and the allowance the market may pull",
    )
    .action((_opts: unknown, command: Command) => run(command, (ctx) => balance(ctx)));
  program
    .command("withdraw")
    .description(
      "move tokens to your wallet: without an amount, first the escrow of your data sets above their lockup, then " +
        "your whole market balance (refunds, earnings; a provider's payee); with an amount, from the balance only",
    )
    .argument("[amount]", "tokens to withdraw (default: everything)", decimalAmount)
    .addOption(
      new Option(
        "--from <ledger>",
        "which balance: the storage market's, the retrieval-challenge contract's (returned bonds, answered " +
          "challenges), the compute market's (lease earnings, refunds, bounties) or what permanent storage " +
          "owes you (repair rewards, refunds of abandoned files; withdrawn whole)",
      )
        .choices(["market", "retrieval", "compute", "permanent"])
        .default("market"),
    )
    .option(
      "--abandon <fileIds>",
      "with --from permanent: first abandon these permanent files (comma-separated ids), each still pending 30 " +
        "days after it was paid without reaching k live pieces, so what is left of its principal is owed to its " +
        "uploader",
      uintList,
    )
    .action((amount: string | undefined, opts: { from: Ledger; abandon?: bigint[] }, command: Command) =>
      run(command, (ctx) =>
        opts.from === "permanent"
          ? withdrawPermanent(ctx, amount, opts.abandon ?? [])
          : opts.abandon !== undefined
            ? Promise.reject(
                new StrataError("INVALID_ARGUMENT", "--abandon goes with --from permanent", {
                  details: "strata withdraw --from permanent --abandon <fileId>",
                }),
              )
            : withdraw(ctx, amount, opts.from),
      ),
    );
}

async function balance(ctx: CliContext): Promise<void> {
  const { chain, signer } = await ctx.signed();
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const retrievalAddress = chain.deployment.retrievalChallenges;
  const computeAddress = chain.deployment.computeMarket;
  const [wallet, market, allowance, retrieval, compute, stake, proofBond] = await Promise.all([
    chain.token.balanceOf(me),
    chain.market.balanceOf(me),
    chain.token.allowance(me, chain.deployment.market),
    retrievalAddress === undefined
      ? Promise.resolve(null)
      : ICreditLedger__factory.connect(retrievalAddress, signer).balanceOf(me),
    computeAddress === undefined
      ? Promise.resolve(null)
      : ICreditLedger__factory.connect(computeAddress, signer).balanceOf(me),
    chain.registry.stakeInfo(me),
    chain.market.proofBond(me).then(([amount]) => amount),
  ]);
  const permanentAddress = await permanentStorageAddress(chain.deployment);
  const permanent =
    permanentAddress === null
      ? null
      : await PermanentStorage__factory.connect(permanentAddress, signer).owed(me);
  // Money held for the account in its data sets (as client) and leases (as tenant): escrow above the lockup
  // is withdrawable, the rest is locked until the data set or lease ends.
  const ids = await findDataSetIds(chain.market, { client: me });
  const dataSets = (await Promise.all(ids.map((id) => readDataSet(chain.market, id)))).filter(
    (d) => d.status !== "finalized",
  );
  const escrows = await Promise.all(dataSets.map((d) => chain.market.withdrawableEscrow(d.id)));
  const escrowWithdrawable = escrows.reduce((sum, e) => sum + e, 0n);
  const escrowTotal = dataSets.reduce((sum, d) => sum + d.escrow, 0n);
  const leases = await tenantLeaseFunds(ctx, me, computeAddress);
  const locked =
    escrowTotal - escrowWithdrawable + leases.escrow + leases.openDeposits + stake.locked + proofBond;
  const total =
    wallet +
    market +
    escrowTotal +
    leases.escrow +
    leases.openDeposits +
    (retrieval ?? 0n) +
    (compute ?? 0n) +
    (permanent ?? 0n) +
    stake.free +
    stake.locked +
    stake.unbonding +
    proofBond;
  ctx.result(
    {
      account: me,
      token: tokenJson(units),
      ...amountsJson(
        {
          wallet,
          market,
          dataSetEscrow: escrowTotal,
          escrowWithdrawable,
          leaseEscrow: leases.escrow,
          openOrderDeposits: leases.openDeposits,
          stakeFree: stake.free,
          stakeLocked: stake.locked,
          stakeUnbonding: stake.unbonding,
          proofBond,
          locked,
          total,
          allowance,
          ...(retrieval === null ? {} : { retrieval }),
          ...(compute === null ? {} : { compute }),
          ...(permanent === null ? {} : { permanentOwed: permanent }),
        },
        units,
      ),
      dataSets: dataSets.length,
      leases: leases.count,
    },
    () => [
      `${me}: ${units.format(total)} in all, of which ${units.format(locked)} locked`,
      `  wallet ${units.format(wallet)} (allowance to the market ${units.format(allowance)})`,
      `  market balance ${units.format(market)} (withdrawable)`,
      `  data sets: ${units.format(escrowTotal)} escrow in ${dataSets.length}, ${units.format(escrowWithdrawable)} above the lockup (withdrawable)`,
      ...(computeAddress === undefined
        ? []
        : [
            `  leases: ${units.format(leases.escrow)} escrow in ${leases.count} live lease(s), ${units.format(leases.openDeposits)} in open orders`,
          ]),
      ...(stake.free + stake.locked + stake.unbonding + proofBond === 0n
        ? []
        : [
            `  stake: free ${units.format(stake.free)}, locked as collateral ${units.format(stake.locked)}, unbonding ${units.format(stake.unbonding)}, proof bond held by the market ${units.format(proofBond)}`,
          ]),
      ...(retrieval === null ? [] : [`  retrieval-challenge balance ${units.format(retrieval)}`]),
      ...(compute === null ? [] : [`  compute market balance ${units.format(compute)}`]),
      ...(permanent === null || permanent === 0n
        ? []
        : [`  owed by permanent storage ${units.format(permanent)} (strata withdraw --from permanent)`]),
    ],
  );
}

/** Escrow of the account's live leases and deposits of its open orders (tenant side). */
async function tenantLeaseFunds(
  ctx: CliContext,
  me: string,
  computeAddress: string | undefined,
): Promise<{ escrow: bigint; openDeposits: bigint; count: number }> {
  if (computeAddress === undefined) return { escrow: 0n, openDeposits: 0n, count: 0 };
  const chain = await ctx.chain();
  const compute = computeMarketOf(chain.deployment, chain.provider);
  const latest = await chain.provider.getBlock("latest");
  const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
  const mine = (await marketEntries(compute, { now })).filter(
    (e) => e.tenant.toLowerCase() === me.toLowerCase(),
  );
  const live = mine.filter((e) => e.status === "leased");
  const statuses = await Promise.all(live.map((e) => leaseStatus(compute, e.orderId)));
  return {
    escrow: statuses.reduce((sum, l) => sum + (l.live?.escrow ?? 0n), 0n),
    openDeposits: mine.filter((e) => e.status === "open").reduce((sum, e) => sum + e.request.deposit, 0n),
    count: live.length,
  };
}

type Ledger = "market" | "retrieval" | "compute" | "permanent";

/**
 * `withdraw --from permanent`: abandon the named pending files first (each checked, so a refusal names the file and
 * why), then withdraw everything permanent storage owes the account (the contract pays it whole).
 */
async function withdrawPermanent(
  ctx: CliContext,
  amountText: string | undefined,
  abandon: readonly bigint[],
): Promise<void> {
  if (amountText !== undefined) {
    throw new StrataError("INVALID_ARGUMENT", "permanent storage pays what it owes whole: drop the amount", {
      details: "strata withdraw --from permanent",
    });
  }
  const { chain, signer } = await ctx.signed();
  const address = await permanentStorageAddress(chain.deployment);
  if (address === null) {
    throw new StrataError("PERMANENT_NOT_DEPLOYED", "this deployment has no PermanentStorage", {
      details: "withdraw --from market instead",
    });
  }
  const perm = PermanentStorage__factory.connect(address, signer);
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  const latest = await chain.provider.getBlock("latest");
  const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
  const limit = await perm.PENDING_LIMIT();
  const abandoned: { fileId: bigint; refund: bigint; txHash: string }[] = [];
  for (const fileId of abandon) {
    if (fileId === 0n || fileId > (await perm.fileCount())) {
      throw new StrataError("INVALID_ARGUMENT", `there is no permanent file ${fileId}`, {
        details: "strata ls --permanent lists yours",
      });
    }
    const file = await perm.file(fileId);
    const status = PermanentFileStatus.nameOf(file.status) ?? `status ${file.status}`;
    if (status !== "Pending") {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `permanent file ${fileId} is ${status}: only a file still pending can be abandoned`,
      );
    }
    const from = file.storedAt + limit;
    if (now <= from) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        `permanent file ${fileId} may be abandoned only 30 days after it was paid, from ${new Date(Number(from) * 1000).toISOString()}`,
      );
    }
    const refund = file.principal - file.spent;
    const tx = await perm.abandon(fileId);
    await confirmTransaction(tx);
    abandoned.push({ fileId, refund, txHash: tx.hash });
    ctx.note(`abandoned permanent file ${fileId}: ${units.format(refund)} owed to ${file.uploader}`);
  }
  const owed = await perm.owed(me);
  if (owed === 0n) {
    throw new StrataError(
      "INVALID_ARGUMENT",
      "nothing to withdraw: permanent storage owes this account nothing",
      {
        details:
          abandoned.length > 0
            ? "the abandoned files' refunds are owed to their uploader: withdraw with the uploader's key"
            : "permanent storage owes repair rewards to providers and refunds of abandoned files to their uploaders",
      },
    );
  }
  const tx = await perm.withdrawOwed();
  await confirmTransaction(tx);
  ctx.result(
    { account: me, from: "permanent", abandoned, withdrawn: owed, remaining: 0n, txHash: tx.hash },
    () => [
      ...abandoned.map((a) => `abandoned permanent file ${a.fileId} (${units.format(a.refund)} refunded)`),
      `withdrew ${units.format(owed)} owed by permanent storage`,
    ],
  );
}

async function withdraw(ctx: CliContext, amountText: string | undefined, from: Ledger): Promise<void> {
  const { signer, market: storageMarket, chain } = await ctx.signed();
  const ledgerAddress =
    from === "retrieval"
      ? chain.deployment.retrievalChallenges
      : from === "compute"
        ? chain.deployment.computeMarket
        : chain.deployment.market;
  if (ledgerAddress === undefined) {
    throw new StrataError(
      "DEPLOYMENT_NOT_FOUND",
      `this deployment has no ${from === "retrieval" ? "retrieval-challenge contract" : "compute market"}; ` +
        "withdraw --from market instead",
    );
  }
  const units = await ctx.tokenUnits();
  const me = await signer.getAddress();
  if (from === "market" && amountText === undefined) {
    const result = await withdrawClientFunds(storageMarket, me, { escrow: true });
    const fromEscrow = result.fromEscrow.reduce((sum, e) => sum + e.amount, 0n);
    if (result.withdrawn === 0n) {
      throw new StrataError(
        "INVALID_ARGUMENT",
        "nothing to withdraw: the market balance is 0 and no data set has escrow above its lockup",
      );
    }
    ctx.result(
      {
        account: me,
        from,
        withdrawn: result.withdrawn,
        fromEscrow: result.fromEscrow,
        remaining: 0n,
        txHash: result.txHash,
      },
      () => [
        `withdrew ${units.format(result.withdrawn)}` +
          (fromEscrow > 0n
            ? ` (of which ${units.format(fromEscrow)} from ${result.fromEscrow.length} data set escrow(s))`
            : ""),
      ],
    );
    return;
  }
  const market = from === "market" ? storageMarket : ICreditLedger__factory.connect(ledgerAddress, signer);
  const available = await market.balanceOf(me);
  const amount = amountText === undefined ? available : units.parse(amountText);
  if (amount === 0n) {
    throw new StrataError("INVALID_ARGUMENT", `nothing to withdraw: the ${from} balance is 0`);
  }
  if (amount > available) {
    throw new StrataError(
      "INSUFFICIENT_FUNDS",
      `the ${from} balance is ${units.format(available)}, less than ${units.format(amount)}`,
    );
  }
  const tx = await market.withdraw(amount);
  await confirmTransaction(tx);
  ctx.result(
    { account: me, from, withdrawn: amount, remaining: available - amount, txHash: tx.hash },
    () => `withdrew ${units.format(amount)} (remaining ${from} balance ${units.format(available - amount)})`,
  );
}
