import { expect } from "chai";
import { network } from "hardhat";
import StrataLocal from "../../deploy/modules/StrataLocal.js";
import {
  DEFAULT_ADMIN_ROLE,
  DEFAULT_MAX_RETRIEVAL_BOND,
  LOCAL_RETRIEVAL_PARAMETERS,
  MARKET_ROLE,
  PARAMETER_ROLE,
  PAUSER_ROLE,
  RETRIEVAL_ROLE,
} from "../../deploy/lib/storageSuite.js";

describe("StrataLocal deployment (Ignition)", function () {
  it("test_deploy_wiresRetrievalChallengesAndHandsEveryRoleToTheTimelock", async function () {
    const { ethers, ignition } = await network.create();
    const [deployer] = await ethers.getSigners();
    if (!deployer) throw new Error("no signer");
    const deployed = await ignition.deploy(StrataLocal);
    const registry = await ethers.getContractAt("ProviderRegistry", await deployed.registry.getAddress());
    const market = await ethers.getContractAt("StorageMarket", await deployed.market.getAddress());
    const rc = await ethers.getContractAt(
      "RetrievalChallenges",
      await deployed.retrievalChallenges.getAddress(),
    );
    const timelock = await deployed.timelock.getAddress();

    expect(await rc.market()).to.equal(await market.getAddress());
    expect(await rc.paymentToken()).to.equal(await deployed.token.getAddress());
    expect(await rc.maxBond()).to.equal(DEFAULT_MAX_RETRIEVAL_BOND);
    expect([...(await rc.parameters())]).to.deep.equal([
      LOCAL_RETRIEVAL_PARAMETERS.responseWindow,
      LOCAL_RETRIEVAL_PARAMETERS.bond,
    ]);
    expect(await registry.hasRole(MARKET_ROLE, await market.getAddress())).to.be.true;
    expect(await market.hasRole(RETRIEVAL_ROLE, await rc.getAddress())).to.be.true;
    expect(await market.hasRole(RETRIEVAL_ROLE, deployer.address)).to.be.false;
    expect(await market.hasRole(RETRIEVAL_ROLE, timelock)).to.be.false;

    for (const contract of [registry, market, rc]) {
      for (const role of [DEFAULT_ADMIN_ROLE, PARAMETER_ROLE, PAUSER_ROLE]) {
        expect(await contract.hasRole(role, timelock), `timelock holds ${role}`).to.be.true;
        expect(await contract.hasRole(role, deployer.address), `deployer renounced ${role}`).to.be.false;
      }
    }
  });
});
