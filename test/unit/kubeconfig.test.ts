// resolveCluster: single-context, self-contained kubeconfigs, and clear refusals.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { ConfigError } from "../../components/config/readers";
import { parseConfig, parseSettings } from "../../components/config/read";
import { isLoopbackServer, resolveCluster, resolveClusters } from "../../components/config/kubeconfig";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubeconfig-test-"));
fs.writeFileSync(path.join(dir, "ca.crt"), "CA-PEM");
fs.writeFileSync(path.join(dir, "token"), "tok-123\n");
const KUBECONFIG = {
    apiVersion: "v1", kind: "Config", "current-context": "node",
    clusters: [
        { name: "node-c", cluster: { server: "https://10.0.0.1:6443", "certificate-authority": "ca.crt" } },
        { name: "target-c", cluster: { server: "https://10.0.0.2:6443", "insecure-skip-tls-verify": true } },
    ],
    users: [
        { name: "admin", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" } },
        { name: "sa", user: { tokenFile: "token" } },
        { name: "cloud", user: { exec: { command: "aws", apiVersion: "client.authentication.k8s.io/v1" } } },
    ],
    contexts: [
        { name: "node", context: { cluster: "node-c", user: "admin" } },
        { name: "target", context: { cluster: "target-c", user: "sa" } },
        { name: "eks", context: { cluster: "target-c", user: "cloud" } },
    ],
};
const file = path.join(dir, "config");
fs.writeFileSync(file, yaml.dump(KUBECONFIG));
const read = (f: string) => fs.readFileSync(f);
const ref = (context?: string) => ({ kubeconfigPath: file, kubeconfigKey: "kubemark:nodeKubeconfig", context, contextKey: "kubemark:nodeContext" });
const message = (fn: () => unknown) => {
    try {
        fn();
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.message;
    }
    assert.fail("expected a ConfigError");
};

describe("resolveCluster", () => {
    it("keeps only the chosen context and inlines file references relative to the kubeconfig", () => {
        const r = resolveCluster(ref(), read);
        const doc = yaml.load(r.kubeconfig) as typeof KUBECONFIG;
        assert.equal(r.context, "node");
        assert.equal(r.server, "https://10.0.0.1:6443");
        assert.equal(doc["current-context"], "node");
        assert.equal(doc.clusters.length, 1);
        assert.equal(doc.users.length, 1);
        assert.deepEqual(doc.clusters[0].cluster, { server: "https://10.0.0.1:6443", "certificate-authority-data": Buffer.from("CA-PEM").toString("base64") });
    });
    it("inlines a token file", () => {
        const doc = yaml.load(resolveCluster(ref("target"), read).kubeconfig) as { users: { user: Record<string, string> }[] };
        assert.deepEqual(doc.users[0].user, { token: "tok-123" });
    });
    it("accepts contents given inline", () => {
        const r = resolveCluster({ kubeconfigKey: "kubemark:targetKubeconfigContent", kubeconfigContent: yaml.dump({ ...KUBECONFIG, "current-context": "target", users: [{ name: "sa", user: { token: "t" } }] }),
            contextKey: "kubemark:targetContext", sameAsNodeCluster: false }, read);
        assert.equal(r.server, "https://10.0.0.2:6443");
    });
    it("keeps exec credentials, for either cluster: they run on this machine, never in pods", () => {
        const doc = yaml.load(resolveCluster(ref("eks"), read).kubeconfig) as { users: { user: Record<string, unknown> }[] };
        assert.ok(doc.users[0].user.exec, "the exec section is kept");
    });
    const refusals: [string, () => unknown, RegExp][] = [
        ["a missing file", () => resolveCluster({ ...ref(), kubeconfigPath: path.join(dir, "nope") }, read), /kubemark:nodeKubeconfig \(.*nope\): cannot read the kubeconfig file/],
        ["an unknown context", () => resolveCluster(ref("prod"), read), /kubemark:nodeContext = "prod": no such context in .*; contexts there: node, target, eks/],
        ["invalid YAML, without quoting it", () => resolveCluster({ kubeconfigKey: "kubemark:targetKubeconfigContent", kubeconfigContent: "token: [s3cr3t", contextKey: "k", sameAsNodeCluster: false }, read), /^(?![\s\S]*s3cr3t)[\s\S]*not valid YAML/],
        ["no current-context", () => resolveCluster({ kubeconfigKey: "x", kubeconfigContent: yaml.dump({ ...KUBECONFIG, "current-context": undefined }), contextKey: "kubemark:targetContext", sameAsNodeCluster: false }, read), /has no current-context; set kubemark:targetContext to one of: node, target, eks/],
    ];
    for (const [what, fn, expected] of refusals) {
        it(`refuses ${what}`, () => assert.match(message(fn), expected));
    }
});

describe("resolveClusters", () => {
    const settings = (values: Record<string, string>) => parseSettings({
        values: { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r", "kubemark:nodeKubeconfig": file, ...values },
        secretKeys: new Set(), project: "kubemark", stack: "s", env: {},
    });
    it("uses the node cluster as the target in one-cluster mode", () => {
        const c = resolveClusters(settings({}), read);
        assert.equal(c.target.kubeconfig, c.node.kubeconfig);
    });
    it("resolves a separate target context from the same file", () => {
        const c = resolveClusters(settings({ "kubemark:targetContext": "target" }), read);
        assert.equal(c.target.server, "https://10.0.0.2:6443");
        assert.equal(c.node.server, "https://10.0.0.1:6443");
    });
    it("reports both clusters' problems together", () => {
        const m = message(() => resolveClusters(settings({ "kubemark:nodeContext": "x", "kubemark:targetContext": "y" }), read));
        assert.match(m, /kubemark:nodeContext = "x"/);
        assert.match(m, /kubemark:targetContext = "y"/);
    });
});

describe("parseConfig: kubeconfig problems listed with every other key's", () => {
    const problemsOf = (values: Record<string, string>): string[] => {
        try {
            parseConfig({ values, secretKeys: new Set(), project: "kubemark", stack: "s", env: {} }, read);
        } catch (e) {
            assert.ok(e instanceof ConfigError);
            return [...e.problems];
        }
        return [];
    };
    it("a stack with no image and a missing node kubeconfig hears of both at once", () => {
        const found = problemsOf({ "kubemark:kubernetesVersion": "v1.31.0", "kubemark:nodeKubeconfig": path.join(dir, "missing") });
        assert.equal(found.length, 2, found.join("\n"));
        assert.match(found[0], /kubemark:image or kubemark:imageRegistry is required/);
        assert.match(found[1], /kubemark:nodeKubeconfig \(.*missing\): cannot read the kubeconfig file/);
    });
    it("lists an unknown context beside a bad value", () => {
        const found = problemsOf({
            "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r", "kubemark:replicas": "-1",
            "kubemark:nodeKubeconfig": file, "kubemark:nodeContext": "nope",
        });
        assert.deepEqual(found.map((p) => p.split(":")[1].split(" ")[0]), ["replicas", "nodeContext"]);
    });
    it("returns both clusters resolved when all is well", () => {
        const { settings, clusters } = parseConfig({
            values: { "kubemark:kubernetesVersion": "v1.31.0", "kubemark:imageRegistry": "r", "kubemark:nodeKubeconfig": file, "kubemark:targetContext": "target" },
            secretKeys: new Set(), project: "kubemark", stack: "s", env: {},
        }, read);
        assert.equal(settings.replicas, 10);
        assert.equal(clusters.target.server, "https://10.0.0.2:6443");
    });
});

describe("isLoopbackServer", () => {
    const cases: [string, boolean][] = [
        ["https://127.0.0.1:6443", true], ["https://localhost:6443", true], ["https://[::1]:6443", true],
        ["https://10.0.0.1:6443", false], ["https://api.example.com", false], ["not a url", false],
    ];
    for (const [server, loopback] of cases) {
        it(`${server} → ${loopback}`, () => assert.equal(isLoopbackServer(server), loopback));
    }
});
