// The providers as Pulumi stores them in state: serialized, reloaded, and run against a real (closed) socket.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { kubeletKeyAndCsr } from "../../components/credentials/csr";
import { HollowCredentialsProvider } from "../../components/credentials/provider";
import { HollowNodeSyncProvider, NodeReaperInputs, NodeReaperProvider, PROVIDER_VERSION } from "../../components/reaper/provider";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- the package has no typings to import
const requireFromString = require("require-from-string") as (code: string) => Record<string, () => any>;

async function roundTrip(make: () => unknown): Promise<{ text: string; provider: any }> {
    const sf = await pulumi.runtime.serializeFunction(make as () => any, { allowSecrets: true });
    return { text: sf.text, provider: requireFromString(sf.text)[sf.exportName]() };
}

// Port 1 on loopback: nothing listens, so the real client gets a real ECONNREFUSED.
const closedKubeconfig = yaml.dump({
    apiVersion: "v1", kind: "Config", "current-context": "c",
    clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
    users: [{ name: "u", user: { token: "t" } }],
    contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
});
const inputs: NodeReaperInputs = {
    providerVersion: PROVIDER_VERSION, targetKubeconfig: closedKubeconfig, nodeKubeconfig: closedKubeconfig,
    selector: `${STACK_LABEL_KEY}=kubemark.test`, selectorKey: STACK_LABEL_KEY,
    namespace: "kubemark-test", podSelector: "app.kubernetes.io/instance=hollow-node-test", timeoutSeconds: 5,
};

describe("serialized providers", () => {
    for (const [name, make] of [["NodeReaper", () => new NodeReaperProvider()], ["HollowNodeSync", () => new HollowNodeSyncProvider()]] as const) {
        it(`${name} serializes small, loads the client with require, and captures no program object`, async () => {
            const { text, provider } = await roundTrip(make);
            // Its own code and the modules it requires (62 KB for the sync with pools and podCIDRs); a captured program
            // object or the SDK would be megabytes.
            assert.ok(text.length < 80_000, `serialized provider is ${text.length} bytes`);
            assert.match(text, /require\("@kubernetes\/client-node"\)/);
            assert.doesNotMatch(text, /@pulumi\/kubernetes|registerResource/);
            assert.equal(typeof provider.create, "function");
            assert.equal(typeof provider.delete, "function");
        });
    }

    it("the reloaded credentials provider still makes valid requests: no Buffer captured as a plain object", async () => {
        const { text } = await roundTrip(() => new HollowCredentialsProvider());
        assert.ok(text.length < 80_000, `serialized provider is ${text.length} bytes`);
        const sf = await pulumi.runtime.serializeFunction((() => kubeletKeyAndCsr) as () => any, { allowSecrets: true });
        const make = requireFromString(sf.text)[sf.exportName]() as unknown as typeof kubeletKeyAndCsr;
        assert.match(make("hollow-node-x-0").csrPem, /^-----BEGIN CERTIFICATE REQUEST-----/);
    });

    it("the reloaded reaper fails a destroy against an unreachable API server with the bound and the way out", async () => {
        const { provider } = await roundTrip(() => new NodeReaperProvider());
        const started = Date.now();
        await assert.rejects(provider.delete("id", inputs),
            /cannot reach the target cluster's API server https:\/\/127\.0\.0\.1:1 \(no answer from .*ECONNREFUSED.*within kubemark:reaperTimeoutSeconds \(5s\); the hollow Nodes with kubemark-pulumi\/stack=kubemark\.test were not removed/);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    });

    it("the reloaded reaper refuses to create when the target is unreachable", async () => {
        const { provider } = await roundTrip(() => new NodeReaperProvider());
        await assert.rejects(provider.create(inputs), /cannot reach the target cluster's API server https:\/\/127\.0\.0\.1:1 .*before creating hollow nodes/);
    });

    it("the reloaded sync's drift check never fails a preview on an unreachable cluster", async () => {
        const { provider } = await roundTrip(() => new HollowNodeSyncProvider());
        const { timeoutSeconds: _t, ...base } = inputs;
        const news = { ...base, replicas: 1, readyTimeoutSeconds: 1, sweepTimeoutSeconds: 5, workloadFingerprint: "f" };
        const diff = await provider.diff("id", { ...news, readyNodes: 1, registeredNodes: 1, sweptNodes: 0 }, news);
        assert.equal(diff.changes, false);
    });
});
