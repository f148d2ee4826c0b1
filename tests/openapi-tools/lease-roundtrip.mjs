// Drives the real server with a client generated from its OpenAPI document by swagger-typescript-api:
// acquires a lease, reads it back as a lease, as a resource, in a listing and by a fencing check,
// releases it with its Leasehold-Token, and prints what it saw as one JSON object.
// Usage: node lease-roundtrip.mjs GENERATED_CLIENT.js BASE_URL RESOURCE_PATH
import { pathToFileURL } from "node:url";

const [clientFile, baseUrl, path] = process.argv.slice(2);
const { Api } = await import(pathToFileURL(clientFile).href);
const api = new Api({ baseUrl });
const v1 = api.v1;

const acquired = (await v1.acquireLease({ path, ttl: 30, owner: "generated-client" })).data;
const lease = (await v1.getLease(acquired.id)).data;
// The route parameter is the path without its leading slash; its segments stay separated by "/".
const resource = (await v1.getResource(path.slice(1))).data;
const listing = (await v1.listResources({ prefix: path, limit: 10 })).data;
const fence = (await v1.checkFence(path.slice(1), { fence: acquired.fence })).data;
const released = await v1.releaseLease(acquired.id, { headers: { "Leasehold-Token": acquired.token } });
let afterRelease;
try {
  await v1.getLease(acquired.id);
  afterRelease = { status: 200 };
} catch (response) {
  afterRelease = { status: response.status, code: response.error?.code };
}

console.log(JSON.stringify({
  acquired: { id: acquired.id, fence: acquired.fence, hasToken: typeof acquired.token === "string" },
  lease: { id: lease.id, owner: lease.owner, hasToken: "token" in lease },
  holders: resource.holders.map((h) => h.id),
  listed: listing.resources.map((r) => r.path),
  fenceCurrent: fence.current,
  releasedStatus: released.status,
  afterRelease,
}));
