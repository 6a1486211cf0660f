import type { Migration } from "kysely";
import { foundation } from "./0001-foundation.js";
import { gateway } from "./0002-gateway.js";
import { users } from "./0003-users.js";
import { metering } from "./0004-metering.js";
import { rollupsWithoutRowid } from "./0005-rollups-without-rowid.js";
import { openCatalog } from "./0009-open-catalog.js";
import { credentialFingerprints } from "./0010-credential-fingerprints.js";
import { deployments } from "./0012-deployments.js";
import { auditSeals } from "./0013-audit-seals.js";
import { budgetLeases } from "./0014-budget-leases.js";
import { testKeyIndex } from "./0015-test-key-index.js";

/**
 * Every migration, in order. Names sort in the order they run; add new ones at the end with the
 * next number. Applied at start-up and by `latchkey migrate`.
 */
export const MIGRATIONS: Record<string, Migration> = {
  "0001-foundation": foundation,
  "0002-gateway": gateway,
  "0003-users": users,
  "0004-metering": metering,
  "0005-rollups-without-rowid": rollupsWithoutRowid,
  "0009-open-catalog": openCatalog,
  "0010-credential-fingerprints": credentialFingerprints,
  "0012-deployments": deployments,
  "0013-audit-seals": auditSeals,
  "0014-budget-leases": budgetLeases,
  "0015-test-key-index": testKeyIndex,
};
