// A full ARM scenario against a real `datasnap-emulator serve --record DIR` process,
// over HTTPS with the CA file from its start line: token, resource group, the seeded
// disk, an incremental snapshot as a long-running operation (both poll styles), PATCH,
// lists, grant/revoke access, the immutability 400, a restore, deletes, 404s, a 401
// and an injected 429. Every response is checked; the recording is then fed to oav.
//
// usage: node scenario.js BIN RECORD_DIR
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");
const https = require("https");
const readline = require("readline");

const API = "2025-01-02";

function request(ctx, method, url, body, token, form) {
  return new Promise((resolve, reject) => {
    const u = new URL(url, ctx.base);
    const headers = { accept: "application/json", "x-ms-client-request-id": `scenario-${Date.now()}` };
    let payload;
    if (form) {
      payload = new URLSearchParams(form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    if (token) headers.authorization = `Bearer ${token}`;
    const req = https.request(u, { method, headers, ca: ctx.ca, agent: ctx.agent }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => {
        let json = null;
        try {
          json = data ? JSON.parse(data) : null;
        } catch (_) {
          json = data;
        }
        resolve({ status: res.statusCode, headers: res.headers, body: json });
      });
    });
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}

function expect(cond, what, got) {
  if (!cond) {
    throw new Error(`scenario step failed: ${what}; got ${JSON.stringify(got)}`);
  }
  console.log(`ok  ${what}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const [bin, recordDir] = process.argv.slice(2);
  if (!bin || !recordDir) {
    console.error("usage: node scenario.js BIN RECORD_DIR");
    process.exit(2);
  }
  fs.mkdirSync(recordDir, { recursive: true });
  const child = spawn(bin, ["serve", "--seed", "--record", recordDir, "--op-duration-ms", "300", "--retry-after-secs", "0", "--list-page-size", "1"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const first = await new Promise((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const start = JSON.parse(first);
    const ctx = {
      base: start.armEndpoint,
      ca: fs.readFileSync(start.caCertFile),
    };
    ctx.agent = new https.Agent({ keepAlive: true, ca: ctx.ca });
    await run(ctx, start);
  } finally {
    child.kill("SIGTERM");
  }
}

async function run(ctx, start) {
  const sub = start.subscriptionId;
  const rgUrl = (rg) => `/subscriptions/${sub}/resourceGroups/${rg}?api-version=2021-04-01`;
  const id = (rg, kind, name) => `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Compute/${kind}/${name}`;
  const url = (rg, kind, name) => `${id(rg, kind, name)}?api-version=${API}`;

  const tok = await request(ctx, "POST", `${start.authorityHost}/${start.tenantId}/oauth2/v2.0/token`, undefined, null, {
    grant_type: "client_credentials",
    client_id: start.clientId,
    client_secret: start.clientSecret,
    scope: "https://management.azure.com/.default",
  });
  expect(tok.status === 200 && tok.body.access_token, "token", tok.status);
  const t = tok.body.access_token;
  const arm = (method, u, body) => request(ctx, method, u, body, t);

  let r = await arm("GET", url("datasets-rg", "disks", "dataset-disk"));
  expect(r.status === 200 && r.body.properties.diskSizeGB === 64, "seeded disk is 64 GB", r.body);
  r = await request(ctx, "GET", url("datasets-rg", "disks", "dataset-disk"));
  expect(r.status === 401 && r.body.error.code === "AuthenticationFailed", "401 without a token", r.body);
  r = await arm("PUT", rgUrl("scenario-rg"), { location: "westus", tags: { env: "test" } });
  expect(r.status === 201, "resource group created", r.status);
  r = await arm("GET", url("scenario-rg", "snapshots", "nothing"));
  expect(r.status === 404 && r.body.error.code === "ResourceNotFound", "404 ResourceNotFound", r.body);
  r = await arm("GET", url("no-such-rg", "snapshots", "nothing"));
  expect(r.status === 404 && r.body.error.code === "ResourceGroupNotFound", "404 ResourceGroupNotFound", r.body);

  // Issue #8: the rules that refuse a request the way Azure does.
  const wrongAud = await request(ctx, "POST", `${start.authorityHost}/${start.tenantId}/oauth2/v2.0/token`, undefined, null, {
    grant_type: "client_credentials",
    client_id: start.clientId,
    client_secret: start.clientSecret,
    scope: "https://graph.microsoft.com/.default",
  });
  r = await request(ctx, "GET", url("datasets-rg", "disks", "dataset-disk"), undefined, wrongAud.body.access_token);
  expect(r.status === 401 && r.body.error.code === "InvalidAuthenticationTokenAudience", "401 for a token of another audience", r.body);
  const diskSource = { createOption: "Copy", sourceResourceId: id("datasets-rg", "disks", "dataset-disk") };
  r = await arm("PUT", url("scenario-rg", "snapshots", "on-mars"), { location: "marsnorth", properties: { creationData: diskSource, incremental: true } });
  expect(r.status === 400 && r.body.error.code === "LocationNotAvailableForResourceType", "400 for a region that does not exist", r.body);
  r = await arm("PUT", url("scenario-rg", "snapshots", "in-east"), { location: "eastus", properties: { creationData: diskSource, incremental: true } });
  expect(r.status === 404 && r.body.error.code === "NotFound", "404 for a Copy from another region", r.body);
  r = await arm("PUT", url("scenario-rg", "disks", "too-big"), { location: "westus", sku: { name: "Standard_LRS" }, properties: { creationData: { createOption: "Empty" }, diskSizeGB: 32768 } });
  expect(r.status === 400 && r.body.error.code === "InvalidParameter", "400 for a disk beyond its SKU's maximum", r.body);
  r = await arm("GET", `/subscriptions/${sub}/locations?api-version=2022-12-01`);
  expect(r.status === 200 && r.body.value.some((l) => l.name === "westus"), "the region list", r.status);

  const snapBody = {
    location: "westus",
    tags: { "datasnap.dataset": "images", "datasnap.version": "1" },
    sku: { name: "Standard_LRS" },
    properties: { creationData: { createOption: "Copy", sourceResourceId: id("datasets-rg", "disks", "dataset-disk") }, incremental: true },
  };
  r = await arm("PUT", url("scenario-rg", "snapshots", "images-v1"), snapBody);
  expect(r.status === 202 && r.headers["azure-asyncoperation"] && r.headers.location, "PUT snapshot -> 202 with both poll headers", r.status);
  const asyncUrl = r.headers["azure-asyncoperation"];
  const monitor = r.headers.location;
  r = await arm("GET", asyncUrl);
  expect(r.status === 200 && r.body.status === "InProgress", "operation InProgress", r.body);
  r = await arm("GET", url("scenario-rg", "snapshots", "images-v1"));
  expect(r.body.properties.provisioningState === "Updating", "provisioningState Updating", r.body.properties);
  r = await arm("PUT", url("scenario-rg", "snapshots", "images-v1"), snapBody);
  expect(r.status === 409 && r.body.error.code === "AnotherOperationInProgress", "409 while in progress", r.body);
  await sleep(350);
  r = await arm("GET", asyncUrl);
  expect(r.body.status === "Succeeded", "operation Succeeded", r.body);
  r = await arm("GET", monitor);
  expect(r.status === 200 && r.body.name === "images-v1", "Location poll returns the snapshot", r.status);
  r = await arm("GET", url("scenario-rg", "snapshots", "images-v1"));
  expect(
    r.status === 200 && r.body.properties.provisioningState === "Succeeded" && r.body.properties.incrementalSnapshotFamilyId,
    "snapshot Succeeded, incremental family set",
    r.body.properties,
  );

  r = await arm("PUT", url("scenario-rg", "snapshots", "images-v1"), {
    ...snapBody,
    properties: { ...snapBody.properties, incremental: false },
  });
  expect(r.status === 400 && r.body.error.code === "PropertyChangeNotAllowed", "400 on changing incremental", r.body);
  r = await arm("PATCH", url("scenario-rg", "snapshots", "images-v1"), { tags: { "datasnap.dataset": "images", "datasnap.version": "1", note: "x" } });
  expect(r.status === 202, "PATCH -> 202", r.status);
  await sleep(350);
  r = await arm("GET", `/subscriptions/${sub}/resourceGroups/scenario-rg/providers/Microsoft.Compute/snapshots?api-version=${API}`);
  expect(r.status === 200 && r.body.value.length === 1 && r.body.value[0].tags.note === "x", "list by resource group", r.body);
  r = await arm("GET", `/subscriptions/${sub}/providers/Microsoft.Compute/snapshots?api-version=${API}`);
  expect(r.status === 200 && r.body.value.length === 1, "list by subscription", r.body);

  r = await arm("POST", `${id("scenario-rg", "snapshots", "images-v1")}/beginGetAccess?api-version=${API}`, { access: "Read", durationInSeconds: 600 });
  expect(r.status === 202, "beginGetAccess -> 202", r.status);
  await sleep(350);
  r = await arm("GET", r.headers.location);
  expect(r.status === 200 && r.body.accessSAS, "grant result has accessSAS", r.body);
  r = await arm("DELETE", url("scenario-rg", "snapshots", "images-v1"));
  expect(r.status === 409 && r.body.error.code === "OperationNotAllowed", "no delete while SAS is active", r.body);
  r = await arm("POST", `${id("scenario-rg", "snapshots", "images-v1")}/endGetAccess?api-version=${API}`);
  expect(r.status === 202, "endGetAccess -> 202", r.status);
  await sleep(350);

  r = await arm("PUT", url("scenario-rg", "disks", "images-restored"), {
    location: "westus",
    properties: { creationData: { createOption: "Copy", sourceResourceId: id("scenario-rg", "snapshots", "images-v1") } },
  });
  expect(r.status === 202, "restore a disk from the snapshot", r.status);
  await sleep(350);
  r = await arm("GET", url("scenario-rg", "disks", "images-restored"));
  expect(r.body.properties.diskSizeGB === 64 && r.body.properties.provisioningState === "Succeeded", "restored disk has the snapshot's size", r.body);

  // Security properties (issue 12): a full snapshot with a customer-managed key, private
  // export only, Entra ID data access; a refused combination; an in-place PATCH.
  const access = `/subscriptions/${sub}/resourceGroups/scenario-rg/providers/Microsoft.Compute/diskAccesses/private-export`;
  const des = `/subscriptions/${sub}/resourceGroups/scenario-rg/providers/Microsoft.Compute/diskEncryptionSets/cmk`;
  const secure = {
    location: "westus",
    tags: { "datasnap.dataset": "images", "datasnap.version": "secure" },
    properties: {
      creationData: { createOption: "Copy", sourceResourceId: id("datasets-rg", "disks", "dataset-disk") },
      incremental: false,
      publicNetworkAccess: "Disabled",
      networkAccessPolicy: "AllowPrivate",
      diskAccessId: access,
      dataAccessAuthMode: "AzureActiveDirectory",
      encryption: { type: "EncryptionAtRestWithCustomerKey", diskEncryptionSetId: des },
    },
  };
  r = await arm("PUT", url("scenario-rg", "snapshots", "images-secure"), secure);
  expect(r.status === 202, "PUT a snapshot with security properties", r.status);
  await sleep(350);
  r = await arm("GET", url("scenario-rg", "snapshots", "images-secure"));
  expect(
    r.status === 200 &&
      r.body.properties.networkAccessPolicy === "AllowPrivate" &&
      r.body.properties.encryption.diskEncryptionSetId === des &&
      r.body.properties.publicNetworkAccess === "Disabled",
    "security properties stored and returned",
    r.body.properties,
  );
  r = await arm("PUT", url("scenario-rg", "snapshots", "images-refused"), {
    ...secure,
    properties: { ...secure.properties, diskAccessId: undefined },
  });
  expect(r.status === 400 && r.body.error.code === "ConflictingUserInput", "AllowPrivate without a disk access -> 400", r.body);
  r = await arm("PATCH", url("scenario-rg", "snapshots", "images-secure"), {
    properties: { dataAccessAuthMode: "None", publicNetworkAccess: "Enabled" },
  });
  expect(r.status === 202, "PATCH security properties in place", r.status);
  await sleep(350);
  r = await arm("GET", url("scenario-rg", "snapshots", "images-secure"));
  expect(r.body.properties.dataAccessAuthMode === "None" && r.body.properties.publicNetworkAccess === "Enabled", "updated in place", r.body.properties);
  r = await arm("PUT", url("scenario-rg", "disks", "images-secure-disk"), {
    location: "westus",
    properties: { creationData: { createOption: "Copy", sourceResourceId: id("scenario-rg", "snapshots", "images-secure") }, networkAccessPolicy: "DenyAll" },
  });
  expect(r.status === 202, "restore a disk from the secure snapshot", r.status);
  await sleep(350);
  r = await arm("GET", url("scenario-rg", "disks", "images-secure-disk"));
  expect(
    r.body.properties.encryption.type === "EncryptionAtRestWithCustomerKey" && r.body.properties.networkAccessPolicy === "DenyAll",
    "the disk inherits the snapshot's encryption",
    r.body.properties,
  );
  r = await arm("DELETE", url("scenario-rg", "disks", "images-secure-disk"));
  expect(r.status === 202, "DELETE the secure disk", r.status);
  r = await arm("DELETE", url("scenario-rg", "snapshots", "images-secure"));
  expect(r.status === 202, "DELETE the secure snapshot", r.status);
  await sleep(350);

  r = await arm("GET", `/subscriptions/${sub}/providers/Microsoft.Compute/disks?api-version=${API}`);
  expect(r.status === 200 && r.body.value.length === 1 && r.body.nextLink, "list disks, first page", r.body);
  r = await arm("GET", r.body.nextLink);
  expect(r.status === 200 && r.body.value.length === 1 && !r.body.nextLink, "list disks, last page via nextLink", r.body);

  await request(ctx, "POST", "/_emulator/faults", { throttle: { count: 1, retryAfterSecs: 1 } });
  r = await arm("GET", url("scenario-rg", "disks", "images-restored"));
  expect(r.status === 429 && r.headers["retry-after"] === "1", "injected 429 with Retry-After", r.status);

  r = await arm("DELETE", url("scenario-rg", "disks", "images-restored"));
  expect(r.status === 202, "DELETE disk -> 202", r.status);
  r = await arm("DELETE", url("scenario-rg", "snapshots", "images-v1"));
  expect(r.status === 202, "DELETE snapshot -> 202", r.status);
  await sleep(350);
  r = await arm("DELETE", url("scenario-rg", "snapshots", "images-v1"));
  expect(r.status === 204, "DELETE again -> 204", r.status);
  r = await arm("GET", url("scenario-rg", "snapshots", "images-v1"));
  expect(r.status === 404, "gone", r.status);
  r = await arm("GET", `${id("datasets-rg", "disks", "dataset-disk")}?api-version=2019-01-01`);
  expect(r.status === 400 && r.body.error.code === "NoRegisteredProviderFound", "unknown api-version -> 400", r.body);
  r = await arm("DELETE", rgUrl("scenario-rg"));
  expect(r.status === 202, "DELETE resource group -> 202", r.status);
  console.log("scenario passed");
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
