// Validates request/response pairs recorded by `datasnap-emulator serve --record DIR`
// against Microsoft's DiskRP.json (2025-01-02) with oav's LiveValidator.
//
// usage: node validate.js DIR [DIR...]
// The spec folder is $AZURE_REST_API_SPECS: `make validate-arm` sets it to a pinned, checksummed
// copy of Azure/azure-rest-api-specs (the commits in tools/azure-specs.lock) that it fetches
// into the cache, or to the existing copy the variable already names.
// Pairs outside DiskRP.json (resource groups, tags, locks, operation-status polls) are
// counted as skipped. Prints each error and a pass/fail count; exits 1 on any error or no pairs.
"use strict";

const fs = require("fs");
const path = require("path");
const { LiveValidator } = require("oav");

const SPEC = "specification/compute/resource-manager/Microsoft.Compute/DiskRP/stable/2025-01-02/DiskRP.json";

function specRoot() {
  if (process.env.AZURE_REST_API_SPECS) return path.resolve(process.env.AZURE_REST_API_SPECS);
  console.error("AZURE_REST_API_SPECS is not set: set AZURE_REST_API_SPECS or run through make, which fetches the specs");
  process.exit(2);
}

function pairFiles(dir) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pairFiles(full));
    else if (entry.name.endsWith(".json")) out.push(full);
  }
  return out.sort();
}

// Only DiskRP's own operations at the spec's api-version can be validated against it.
// A disk's or snapshot's tags and locks (`.../providers/Microsoft.Resources/tags/default`,
// `.../providers/Microsoft.Authorization/locks/...`) are other providers', outside DiskRP.json.
function inDiskRp(url) {
  const u = new URL(url);
  const p = u.pathname.toLowerCase();
  return (
    /\/providers\/microsoft\.compute\/(snapshots|disks)(\/|$)/.test(p) &&
    !/\/providers\/microsoft\.(resources|authorization)\//.test(p) &&
    u.searchParams.get("api-version") === "2025-01-02"
  );
}

async function main() {
  const dirs = process.argv.slice(2);
  if (dirs.length === 0) {
    console.error("usage: node validate.js DIR [DIR...]");
    process.exit(2);
  }
  const root = specRoot();
  if (!fs.existsSync(path.join(root, SPEC))) {
    console.error(`DiskRP.json not found under ${root} (set AZURE_REST_API_SPECS)`);
    process.exit(2);
  }
  const validator = new LiveValidator({
    directory: root,
    swaggerPathsPattern: [SPEC],
    git: { shouldClone: false },
    isPathCaseSensitive: false,
  });
  await validator.initialize();

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const byOperation = {};
  for (const dir of dirs) {
    for (const file of pairFiles(dir)) {
      const pair = JSON.parse(fs.readFileSync(file, "utf8"));
      if (!pair.liveRequest || !inDiskRp(pair.liveRequest.url)) {
        skipped++;
        continue;
      }
      const result = await validator.validateLiveRequestResponse(pair);
      const req = result.requestValidationResult || {};
      const res = result.responseValidationResult || {};
      const op = (req.operationInfo && req.operationInfo.operationId) || "unknown";
      const errors = [...(req.errors || []), ...(res.errors || [])];
      if (req.runtimeException) errors.push(req.runtimeException);
      if (res.runtimeException) errors.push(res.runtimeException);
      const ok = req.isSuccessful && res.isSuccessful && errors.length === 0;
      const key = `${op} ${pair.liveRequest.method} -> ${pair.liveResponse.statusCode}`;
      byOperation[key] = (byOperation[key] || 0) + 1;
      if (ok) {
        passed++;
      } else {
        failed++;
        console.log(`FAIL ${path.relative(process.cwd(), file)} ${key}`);
        for (const e of errors) {
          console.log(`  ${e.code || "ERROR"}: ${e.message}${e.path ? ` (at ${e.path})` : ""}`);
        }
      }
    }
  }
  console.log("validated operations:");
  for (const [k, n] of Object.entries(byOperation).sort()) console.log(`  ${n} x ${k}`);
  console.log(`oav LiveValidator: ${passed} passed, ${failed} failed, ${skipped} skipped (outside DiskRP.json 2025-01-02)`);
  if (failed > 0 || passed === 0) process.exit(1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
