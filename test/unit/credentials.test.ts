// Least-privilege credentials: CSR bytes, in-pod kubeconfigs, Secret shards, and the issuer against a fake signer.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { unreachableError } from "../../components/kube/errors";
import * as yaml from "js-yaml";
import { CertificateApi } from "../../components/credentials/certificateApi";
import { certificateShards, kubeletKubeconfig, shardCount, tokenKubeconfig } from "../../components/credentials/kubeconfigs";
import { csrName, needsRenewal, NodeCertificate } from "../../components/credentials/csr";
import { kubeletConfinement } from "../../components/credentials/policy";
import { HollowCredentialsInputs, HollowCredentialsOutputs, HollowCredentialsProvider, ISSUE_CONCURRENCY } from "../../components/credentials/provider";
import { kubeletKeyAndCsr } from "../../components/credentials/csr";
import { FakeClock } from "../harness/fakeCluster";

const OPERATOR = yaml.dump({
    apiVersion: "v1", kind: "Config", "current-context": "admin@prod",
    clusters: [{ name: "prod", cluster: { server: "https://10.0.0.1:6443", "certificate-authority-data": "Q0E=", "tls-server-name": "api.prod" } }],
    users: [{ name: "admin", user: { token: "operator-admin-token", exec: { command: "aws" } } }],
    contexts: [{ name: "admin@prod", context: { cluster: "prod", user: "admin" } }],
});

describe("kubelet key and CSR", () => {
    it("is a P-256 request for system:node:<name> in system:nodes that openssl verifies", () => {
        const { keyPem, csrPem } = kubeletKeyAndCsr("hollow-node-v1-31-7");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "csr-"));
        try {
            fs.writeFileSync(path.join(dir, "r.csr"), csrPem);
            const out = execFileSync("openssl", ["req", "-in", path.join(dir, "r.csr"), "-noout", "-verify", "-subject", "-text"], { stdio: ["ignore", "pipe", "pipe"] }).toString();
            assert.match(out, /subject=O ?= ?system:nodes, CN ?= ?system:node:hollow-node-v1-31-7/);
            assert.match(out, /prime256v1|P-256/);
            assert.doesNotMatch(out, /Subject Alternative Name/, "the kubelet signer refuses SANs");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----/);
    });
});

describe("in-pod kubeconfigs", () => {
    it("the kubelet's keeps the operator's cluster entry and points at the pod's own files, with no operator credential", () => {
        const text = kubeletKubeconfig(OPERATOR);
        const doc = yaml.load(text) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
        assert.deepEqual(doc.clusters[0].cluster, { server: "https://10.0.0.1:6443", "certificate-authority-data": "Q0E=", "tls-server-name": "api.prod" });
        assert.deepEqual(doc.users[0].user, { "client-certificate": "/kubeconfig/tls.crt", "client-key": "/kubeconfig/tls.key" });
        assert.ok(!text.includes("operator-admin-token") && !text.includes("aws"));
    });
    it("the proxy's carries only its ServiceAccount token", () => {
        const text = tokenKubeconfig(OPERATOR, "hollow-proxy", "sa-token");
        assert.deepEqual((yaml.load(text) as { users: { user: unknown }[] }).users[0].user, { token: "sa-token" });
        assert.ok(!text.includes("operator-admin-token"));
    });
    it("refuses a kubeconfig whose context has no cluster", () => {
        assert.throws(() => kubeletKubeconfig("apiVersion: v1\nkind: Config\n"), /current context has no cluster with a server/);
    });
});

describe("the shared kubelet identity's admission policy", () => {
    it("matches only that ServiceAccount and quotes the stack's label and prefix into CEL", () => {
        const spec = kubeletConfinement({ stackLabelKey: "kubemark-pulumi/stack", stackLabelValue: "kubemark.o'k", user: "system:serviceaccount:ns:hollow-kubelet", nodeNamePrefix: "hollow-node-ok-" }) as {
            matchConditions: { expression: string }[]; validations: { expression: string }[]; failurePolicy: string };
        assert.equal(spec.failurePolicy, "Fail");
        assert.equal(spec.matchConditions[0].expression, "request.userInfo.username == 'system:serviceaccount:ns:hollow-kubelet'");
        assert.match(spec.validations[0].expression, /oldObject\.metadata\.labels\['kubemark-pulumi\/stack'\] == 'kubemark\.o\\'k'/);
        assert.match(spec.validations[1].expression, /startsWith\('hollow-node-ok-'\)/);
    });
});

describe("certificate Secrets", () => {
    const cert = (n: string): NodeCertificate => ({ certPem: `C-${n}`, keyPem: `K-${n}`, notBefore: "2029-01-01T00:00:00.000Z", notAfter: "2030-01-01T00:00:00.000Z", csrName: n });
    const cases: [number, number, number[]][] = [[0, 500, []], [3, 500, [3]], [500, 500, [500]], [1201, 500, [500, 500, 201]]];
    for (const [nodes, per, sizes] of cases) {
        it(`${nodes} nodes, ${per} per Secret: ${sizes.length} Secret(s)`, () => {
            const names = Array.from({ length: nodes }, (_, i) => `n-${i}`);
            const shards = certificateShards(Object.fromEntries(names.reverse().map((n) => [n, cert(n)])), per);
            assert.deepEqual(shards.map((s) => Object.keys(s).length / 2), sizes);
            assert.equal(shardCount(nodes, per), sizes.length);
            if (nodes > 0) {
                assert.deepEqual(Object.keys(shards[0]).slice(0, 4), ["n-0.crt", "n-0.key", "n-1.crt", "n-1.key"], "numeric order, stable");
            }
        });
    }
    it("500 real certificates and keys fit a Secret's 1 MiB with room", () => {
        assert.ok(500 * (1100 + 250) < 1024 * 1024);
    });
});

describe("renewal and names", () => {
    const now = Date.parse("2026-11-27T12:00:00Z");
    const cases: [string, string, boolean][] = [
        ["2026-11-27T00:00:00Z", "2026-12-04T00:00:00Z", false], ["2026-11-23T00:00:00Z", "2026-11-30T00:00:00Z", true],
        // A signer that capped a week to two days: renewed after one, not three and a half.
        ["2026-11-27T00:00:00Z", "2026-11-29T00:00:00Z", false], ["2026-11-26T00:00:00Z", "2026-11-28T00:00:00Z", true],
        ["garbage", "2026-12-04T00:00:00Z", true],
    ];
    for (const [notBefore, notAfter, renew] of cases) {
        it(`valid ${notBefore} to ${notAfter}, at ${new Date(now).toISOString()}: renew ${renew}`, () => assert.equal(needsRenewal(notBefore, notAfter, now), renew));
    }
    it("CSR names carry the node and the second they were asked for", () => {
        assert.equal(csrName("hollow-node-dev-0", now), `hollow-node-dev-0-${(now / 1000).toString(36)}`);
    });
});

/** A real certificate the fake signer hands out (its notAfter is what renewal looks at). */
const SIGNED = execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", "/dev/null", "-subj", "/O=system:nodes/CN=system:node:x", "-days", "7"], { stdio: ["ignore", "pipe", "ignore"] }).toString();

class FakeSigner implements CertificateApi {
    readonly server = "https://target.test:6443";
    readonly csrs = new Map<string, { labels: Record<string, string>; reason: string; expirationSeconds: number }>();
    readonly deleted: string[] = [];
    tokens = 0;
    inFlight = 0;
    maxInFlight = 0;
    deny = new Set<string>();
    signs = true;

    async requestAndApprove(req: { name: string; csrPem: string; labels: Record<string, string>; expirationSeconds: number; reason: string }) {
        this.inFlight++;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        await new Promise((r) => setImmediate(r));
        this.inFlight--;
        assert.match(req.csrPem, /BEGIN CERTIFICATE REQUEST/);
        this.csrs.set(req.name, { labels: req.labels, reason: req.reason, expirationSeconds: req.expirationSeconds });
    }
    async readCsr(name: string) {
        if (!this.csrs.has(name)) {
            return undefined;
        }
        const node = name.replace(/-[0-9a-z]+$/, "");
        if (this.deny.has(node)) {
            return { name, refused: "Denied: PolicyDenied no" };
        }
        return { name, certificate: this.signs ? SIGNED : undefined };
    }
    async deleteCsr(name: string) {
        this.deleted.push(name);
        this.csrs.delete(name);
    }
    async listCsrs(selector: string) {
        const [k, v] = selector.split("=");
        return [...this.csrs.entries()].filter(([, c]) => c.labels[k] === v).map(([n]) => n);
    }
    async requestToken() {
        this.tokens++;
        return { token: `token-${this.tokens}`, expires: new Date(Date.now() + 7 * 86400_000).toISOString() };
    }
}

function setup(over: Partial<HollowCredentialsInputs> = {}) {
    const signer = new FakeSigner();
    const clock = new FakeClock();
    clock.t = Date.now();
    const logs: string[] = [];
    const provider = new HollowCredentialsProvider(() => signer, clock, (m) => logs.push(m));
    const inputs: HollowCredentialsInputs = {
        providerVersion: "1", targetKubeconfig: OPERATOR, stackLabelKey: "kubemark-pulumi/stack", stackLabelValue: "kubemark.dev",
        nodeNames: ["hollow-node-dev-0", "hollow-node-dev-1", "hollow-node-dev-2"], lifetimeSeconds: 7 * 86400,
        identityNamespace: "kubemark-dev-identity", serviceAccounts: ["hollow-proxy"], timeoutSeconds: 60, ...over,
    };
    return { signer, clock, logs, provider, inputs };
}

describe("HollowCredentialsProvider", () => {
    it("a Ctrl-C while the signer has not signed ends the issue at once and revokes every CSR this run requested", async () => {
        const { signer, clock, logs, inputs } = setup({ timeoutSeconds: 300 });
        signer.signs = false;
        const controller = new AbortController();
        const started = clock.t;
        clock.onSleep = (t) => {
            if (t - started >= 5000) {
                controller.abort();
            }
        };
        const provider = new HollowCredentialsProvider(() => signer, clock, (m) => logs.push(m), { signal: controller.signal, hooked: true });
        await assert.rejects(provider.create(inputs),
            /cancelled \(Ctrl-C\) while issuing the hollow nodes' credentials: the 3 certificate\(s\) requested in this run were revoked/);
        assert.ok(clock.t - started < 7000, `stopped ${(clock.t - started) / 1000}s in`);
        assert.equal(signer.csrs.size, 0);
        assert.equal(signer.deleted.length, 3);
    });
    it("create: one approved, labelled CSR and certificate per node, and the proxy's token", async () => {
        const { signer, provider, inputs } = setup();
        const outs = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        assert.deepEqual(Object.keys(outs.certificates).sort(), inputs.nodeNames);
        assert.equal(signer.csrs.size, 3);
        for (const c of signer.csrs.values()) {
            assert.deepEqual(c.labels, { "kubemark-pulumi/stack": "kubemark.dev" });
            assert.equal(c.expirationSeconds, 7 * 86400);
            assert.match(c.reason, /kubemark-pulumi/);
        }
        assert.equal(outs.tokens["hollow-proxy"].token, "token-1");
        assert.match(outs.certificates["hollow-node-dev-0"].keyPem, /PRIVATE KEY/);
        assert.ok(Date.parse(outs.certificates["hollow-node-dev-0"].notAfter) > Date.now());
    });

    it("issues many concurrently, bounded, and asks no token without the proxy", async () => {
        const names = Array.from({ length: 100 }, (_, i) => `hollow-node-dev-${i}`);
        const { signer, provider, inputs } = setup({ nodeNames: names, serviceAccounts: [] });
        const outs = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        assert.equal(Object.keys(outs.certificates).length, 100);
        assert.equal(signer.maxInFlight, ISSUE_CONCURRENCY);
        assert.equal(signer.tokens, 0);
        assert.deepEqual(outs.tokens, {});
    });

    it("a refused CSR fails up, naming it, and revokes what that attempt issued", async () => {
        const { signer, provider, inputs } = setup();
        signer.deny.add("hollow-node-dev-1");
        await assert.rejects(provider.create(inputs), /1 of 3 hollow kubelet certificate\(s\) could not be issued on https:\/\/target\.test:6443 \(CertificateSigningRequest hollow-node-dev-1-\w+ was refused \(Denied: PolicyDenied no\)\); without one: hollow-node-dev-1/);
        assert.equal([...signer.csrs.keys()].filter((n) => !n.startsWith("hollow-node-dev-1-")).length, 0, "issued ones revoked");
    });

    it("an approved CSR no signer issues fails at the bound, saying what the target lacks", async () => {
        const { signer, provider, inputs } = setup({ timeoutSeconds: 5 });
        signer.signs = false;
        await assert.rejects(provider.create(inputs), /approved but not signed in time: the target's kube-controller-manager must run its csrsigning controller/);
    });

    it("diff: nothing changed is no change; new names, a new kubeconfig or a credential near expiry are", async () => {
        const { provider, inputs, clock } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        assert.equal((await provider.diff("id", olds, inputs)).changes, false);
        assert.equal((await provider.diff("id", olds, { ...inputs, nodeNames: [...inputs.nodeNames, "hollow-node-dev-3"] })).changes, true);
        assert.deepEqual((await provider.diff("id", olds, { ...inputs, targetKubeconfig: `${OPERATOR}\n` })).replaces, []);
        clock.t = Date.parse(olds.certificates["hollow-node-dev-0"].notAfter) - 86400_000;
        assert.equal((await provider.diff("id", olds, inputs)).changes, true, "renewal due");
    });

    it("update: scaling keeps existing certificates, issues new ones, and deletes the CSRs of removed nodes", async () => {
        const { signer, provider, inputs } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        const grown = (await provider.update("id", olds, { ...inputs, nodeNames: [...inputs.nodeNames, "hollow-node-dev-3"] })).outs as HollowCredentialsOutputs;
        assert.equal(grown.certificates["hollow-node-dev-0"].csrName, olds.certificates["hollow-node-dev-0"].csrName, "kept");
        assert.equal(grown.tokens["hollow-proxy"].token, "token-1", "the token is kept too: scaling restarts no pod");
        assert.ok(grown.certificates["hollow-node-dev-3"]);
        const shrunk = (await provider.update("id", grown, { ...inputs, nodeNames: ["hollow-node-dev-0"] })).outs as HollowCredentialsOutputs;
        assert.deepEqual(Object.keys(shrunk.certificates), ["hollow-node-dev-0"]);
        assert.deepEqual(signer.deleted.map((n) => n.replace(/-[0-9a-z]+$/, "")).sort(), ["hollow-node-dev-1", "hollow-node-dev-2", "hollow-node-dev-3"]);
    });

    it("update at renewal time re-issues every expiring certificate and the token, deleting the old CSRs", async () => {
        const { signer, provider, inputs, clock } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        clock.t = Date.parse(olds.certificates["hollow-node-dev-0"].notAfter) - 86400_000;
        const renewed = (await provider.update("id", olds, inputs)).outs as HollowCredentialsOutputs;
        for (const n of inputs.nodeNames) {
            assert.notEqual(renewed.certificates[n].csrName, olds.certificates[n].csrName, n);
            assert.notEqual(renewed.certificates[n].keyPem, olds.certificates[n].keyPem, `${n}: a new key`);
        }
        assert.equal(signer.deleted.length, 3);
        assert.equal(renewed.tokens["hollow-proxy"].token, "token-2");
    });

    it("delete with the target unreachable says which server and what to do", async () => {
        const { signer, provider, inputs } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        // As the real API's calls fail with no answer at all: refused, every look.
        signer.listCsrs = async () => { throw unreachableError("https://target.test:6443", "connect ECONNREFUSED"); };
        await assert.rejects(provider.delete("id", olds), /cannot reach the target cluster's API server https:\/\/target\.test:6443 .*were not deleted.*run the command again/);
    });

    it("delete rides out a target too busy to answer (a destroy's pod stop storm): its CSR deletes are tried again", async () => {
        const { signer, provider, inputs, logs } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        const deleteCsr = signer.deleteCsr.bind(signer);
        let unanswered = 4;
        signer.deleteCsr = async (name: string) => {
            if (unanswered-- > 0) {
                throw unreachableError("https://target.test:6443", `DELETE ${name}: no answer within 15s`, true);
            }
            await deleteCsr(name);
        };
        await provider.delete("id", olds);
        assert.equal(signer.csrs.size, 0);
        assert.ok(logs.some((l) => /CertificateSigningRequest delete\(s\) without an answer; trying them again/.test(l)), logs.join("\n"));
    });

    it("delete removes every CSR of the stack and nothing else; twice is fine", async () => {
        const { signer, provider, inputs } = setup();
        const olds = (await provider.create(inputs)).outs as HollowCredentialsOutputs;
        signer.csrs.set("someone-else", { labels: { team: "a" }, reason: "", expirationSeconds: 600 });
        await provider.delete("id", olds);
        await provider.delete("id", olds);
        assert.deepEqual([...signer.csrs.keys()], ["someone-else"]);
    });
});
