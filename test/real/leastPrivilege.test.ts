// What a hollow node's credentials can and cannot do, against real API servers with the Node authorizer: targets of
// the node cluster's release and of the newest, each with the identities of its own release's kubelets.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as yaml from "js-yaml";
import * as k8s from "@kubernetes/client-node";
import { NEWEST_TESTED } from "../../components/config/releases";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { kubernetesCertificateApi } from "../../components/credentials/certificateApi";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets, podKubeconfig, register, reportStatus } from "../harness/fakeKubelets";
import { startPair, stopPair } from "../harness/clusterPair";
import { pulumi } from "../harness/pulumiCli";

/** Targets: the node cluster's own release (the toolchain's bin/) and the newest, each with kubelets of its release. */
const TARGETS = [{ release: undefined, label: "the node cluster's release", kubelet: "v1.31.0" },
    { release: NEWEST_TESTED.text, label: NEWEST_TESTED.text, kubelet: NEWEST_TESTED.text }];
const skip = missingTools([NEWEST_TESTED.text]);

/** The HTTP status a call ended with: 2xx as 200, an API error's code otherwise. */
async function status(p: Promise<unknown>): Promise<number> {
    try {
        await p;
        return 200;
    } catch (e) {
        const code = (e as { code?: number }).code;
        if (typeof code !== "number") {
            throw e;
        }
        return code;
    }
}

function api(kubeconfig: string) {
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    return { core: kc.makeApiClient(k8s.CoreV1Api), coordination: kc.makeApiClient(k8s.CoordinationV1Api) };
}

for (const t of TARGETS) describe(`least privilege against real API servers, target of ${t.label}, kubelets of ${t.kubelet}`, { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    const tried: { who: string; what: string; want: number; got: number }[] = [];

    before(async () => {
        ({ nodeCluster, target, project } = await startPair(t.release));
    });
    after(async () => {
        const refused = tried.filter((t) => t.want === 403);
        console.log(`least-privilege matrix: ${tried.length} calls tried, ${refused.length} expected refusals, ` +
            `${refused.filter((t) => t.got === 403).length} refused with 403`);
        for (const t of tried) {
            console.log(`  ${t.who}: ${t.what} -> ${t.got}`);
        }
        await stopPair({ nodeCluster, target, project });
    });

    async function up(stack: string, extra: [string, string][], targetKubeconfig = target.kubeconfigFile): Promise<k8s.V1Pod[]> {
        assert.equal((await pulumi(project, stack, ["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", t.kubelet], ["image", `127.0.0.1:5000/kubemark:${t.kubelet}`], ["readyTimeoutSeconds", "120"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", targetKubeconfig], ...extra]) {
            assert.equal((await pulumi(project, stack, ["config", "set", k, v])).code, 0, `config set ${k}`);
        }
        const stop = fakeKubelets(nodeCluster, target, `kubemark-${stack}`);
        try {
            const run = await pulumi(project, stack, ["up", "--yes", "--skip-preview"]);
            assert.equal(run.code, 0, run.out);
            console.log(`${stack}: pulumi up ${run.seconds.toFixed(1)}s, the fake kubelets registering with the pods' own credentials`);
        } finally {
            await stop();
        }
        return (await clients(nodeCluster).core.listNamespacedPod({ namespace: `kubemark-${stack}` })).items
            .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    }

    async function expect(who: string, what: string, want: number, call: Promise<unknown>): Promise<void> {
        const got = await status(call);
        tried.push({ who, what, want, got });
        assert.equal(got, want, `${who}: ${what}`);
    }

    it("StatefulSet: each hollow kubelet is system:node:<its name>, confined to its own Node and Lease; the proxy reads only what kube-proxy reads", { timeout: 600_000 }, async () => {
        await register(target, "hollow-node-other-0", { [STACK_LABEL_KEY]: "kubemark.other" });
        await register(target, "real-worker", {});
        await clients(target).core.createNamespacedSecret({ namespace: "default", body: { metadata: { name: "db-password" }, stringData: { p: "x" } } });
        const pods = await up("lp", [["replicas", "2"]]);
        const [own, sibling] = pods.map((p) => p.metadata!.name!);

        // Nothing the stack put in the node cluster is an admin credential of either cluster.
        const secrets = (await clients(nodeCluster).core.listNamespacedSecret({ namespace: "kubemark-lp" })).items;
        const text = JSON.stringify(secrets.map((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, "base64").toString())));
        for (const admin of [target.kubeconfig, nodeCluster.kubeconfig].map((kc) => /token: (\S+)/.exec(kc)![1])) {
            assert.ok(!text.includes(admin), "an admin token in a node-cluster Secret");
        }
        assert.deepEqual(secrets.map((s) => Object.keys(s.data ?? {}).sort()), [
            [`${own}.crt`, `${own}.key`, `${sibling}.crt`, `${sibling}.key`], ["kubelet.kubeconfig", "kubeproxy.kubeconfig"]]);

        const kubelet = api(await podKubeconfig(nodeCluster, pods[0]));
        const node = await kubelet.core.readNode({ name: own });
        await expect("kubelet", "read its own Node", 200, kubelet.core.readNode({ name: own }));
        node.status!.conditions![0].lastHeartbeatTime = new Date();
        await expect("kubelet", "patch its own Node's status", 200, reportStatus(kubelet.core, own, node.status!));
        const lease = await kubelet.coordination.readNamespacedLease({ namespace: "kube-node-lease", name: own });
        lease.spec!.renewTime = new k8s.V1MicroTime();
        await expect("kubelet", "renew its own Lease", 200, kubelet.coordination.replaceNamespacedLease({ namespace: "kube-node-lease", name: own, body: lease }));
        for (const other of [sibling, "hollow-node-other-0", "real-worker"]) {
            const victim = await clients(target).core.readNode({ name: other });
            victim.metadata!.labels = { ...victim.metadata!.labels, hijacked: "true" };
            await expect("kubelet", `relabel Node ${other}`, 403, kubelet.core.replaceNode({ name: other, body: victim }));
            await expect("kubelet", `delete Node ${other}`, 403, kubelet.core.deleteNode({ name: other }));
        }
        await expect("kubelet", `delete the Lease of ${sibling}`, 403, kubelet.coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name: sibling }));
        await expect("kubelet", "read a Secret", 403, kubelet.core.readNamespacedSecret({ namespace: "default", name: "db-password" }));
        await expect("kubelet", "list Secrets", 403, kubelet.core.listSecretForAllNamespaces());
        await expect("kubelet", "list ServiceAccounts", 403, kubelet.core.listServiceAccountForAllNamespaces());

        const secret = secrets.find((s) => s.data?.["kubeproxy.kubeconfig"])!;
        const proxy = api(Buffer.from(secret.data!["kubeproxy.kubeconfig"], "base64").toString());
        await expect("proxy", "list Services", 200, proxy.core.listServiceForAllNamespaces());
        await expect("proxy", "list Nodes", 200, proxy.core.listNode());
        const victim = await clients(target).core.readNode({ name: "real-worker" });
        victim.metadata!.labels = { hijacked: "true" };
        await expect("proxy", "relabel Node real-worker", 403, proxy.core.replaceNode({ name: "real-worker", body: victim }));
        await expect("proxy", "read a Secret", 403, proxy.core.readNamespacedSecret({ namespace: "default", name: "db-password" }));
        await expect("proxy", "list ServiceAccounts", 403, proxy.core.listServiceAccountForAllNamespaces());

        // In state every key and token is a secret (ciphertext): none of them in plain text.
        const state = await pulumi(project, "lp", ["stack", "export"]);
        assert.equal(state.code, 0);
        const proxyToken = /token: (\S+)/.exec(Buffer.from(secret.data!["kubeproxy.kubeconfig"], "base64").toString())![1];
        assert.ok(!state.out.includes("PRIVATE KEY") && !state.out.includes(proxyToken), "a key or token in plain text in the stack's state");

        // Destroy revokes: the ServiceAccount and CSRs go, so the token stops working at once; a certificate
        // cannot be revoked and still authenticates until it expires, for its own Node only.
        const destroy = await pulumi(project, "lp", ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        // Its binding is gone at once (403); the API server's 10 s token cache then lets authentication lapse too
        // (401).
        const destroyed = Date.now();
        assert.ok([401, 403].includes(await status(proxy.core.listServiceForAllNamespaces())), "the token still works after destroy");
        while (await status(proxy.core.listServiceForAllNamespaces()) !== 401) {
            assert.ok(Date.now() - destroyed < 30_000, "the proxy token still authenticates 30 s after destroy");
            await new Promise((r) => setTimeout(r, 500));
        }
        console.log(`proxy token rejected as unauthenticated (401) ${((Date.now() - destroyed) / 1000).toFixed(1)} s after destroy`);
        tried.push({ who: "proxy after destroy", what: "list Services", want: 401, got: 401 });
        assert.deepEqual(await kubernetesCertificateApi(target.kubeconfig, 5000).listCsrs(`${STACK_LABEL_KEY}=kubemark.lp`), []);
        await expect("kubelet after destroy", "read its own (deleted) Node", 404, kubelet.core.readNode({ name: own }));
        await expect("kubelet after destroy", "relabel Node real-worker", 403, kubelet.core.replaceNode({ name: "real-worker", body: victim }));
    });

    it("Deployment: the kubelets share a ServiceAccount, confined by an admission policy to this stack's Nodes and Leases", { timeout: 600_000 }, async () => {
        const pods = await up("lpd", [["replicas", "1"], ["workloadKind", "Deployment"], ["hollowProxy", "false"]]);
        const kubelet = api(await podKubeconfig(nodeCluster, pods[0]));
        const own = pods[0].metadata!.name!;
        await expect("shared kubelet", "read its own Node", 200, kubelet.core.readNode({ name: own }));
        const mine = await kubelet.core.readNode({ name: own });
        mine.status!.conditions![0].lastHeartbeatTime = new Date();
        await expect("shared kubelet", "patch its own Node's status", 200, reportStatus(kubelet.core, own, mine.status!));
        const lease = await kubelet.coordination.readNamespacedLease({ namespace: "kube-node-lease", name: own });
        lease.spec!.renewTime = new k8s.V1MicroTime();
        await expect("shared kubelet", "renew its own Lease", 200, kubelet.coordination.replaceNamespacedLease({ namespace: "kube-node-lease", name: own, body: lease }));
        const worker = await clients(target).core.readNode({ name: "real-worker" });
        worker.metadata!.labels = { ...worker.metadata!.labels, hijacked: "true" };
        await expect("shared kubelet", "relabel Node real-worker", 403, kubelet.core.replaceNode({ name: "real-worker", body: worker }));
        const workerStatus = await clients(target).core.readNode({ name: "real-worker" });
        await expect("shared kubelet", "patch Node real-worker's status", 403, reportStatus(kubelet.core, "real-worker", workerStatus.status!));
        const other = await clients(target).core.readNode({ name: "hollow-node-other-0" });
        other.metadata!.labels = { [STACK_LABEL_KEY]: "kubemark.lpd" };
        await expect("shared kubelet", "claim another stack's Node by relabelling it", 403, kubelet.core.replaceNode({ name: "hollow-node-other-0", body: other }));
        const workerLease = await clients(target).coordination.readNamespacedLease({ namespace: "kube-node-lease", name: "real-worker" });
        await expect("shared kubelet", "renew Lease real-worker", 403, kubelet.coordination.replaceNamespacedLease({ namespace: "kube-node-lease", name: "real-worker", body: workerLease }));
        await expect("shared kubelet", "delete Node real-worker", 403, kubelet.core.deleteNode({ name: "real-worker" }));
        await expect("shared kubelet", "read a Secret", 403, kubelet.core.readNamespacedSecret({ namespace: "default", name: "db-password" }));
        await expect("shared kubelet", "list ServiceAccounts", 403, kubelet.core.listServiceAccountForAllNamespaces());
        const destroy = await pulumi(project, "lpd", ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.ok([401, 403].includes(await status(kubelet.core.readNode({ name: "real-worker" }))), "the shared token still works after destroy");
        tried.push({ who: "shared kubelet after destroy", what: "read Node real-worker", want: 403, got: 403 });
    });

    it("a target kubeconfig whose user is an exec plugin works: Pulumi and the dynamic providers run it here, pods never do", { timeout: 600_000 }, async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "exec-plugin-"));
        const calls = path.join(dir, "calls");
        const token = /token: (\S+)/.exec(target.kubeconfig)![1];
        fs.writeFileSync(path.join(dir, "token"), token, { mode: 0o600 });
        // A credential plugin as EKS, GKE or OIDC setups have, reduced to handing out a token; it counts its calls.
        fs.writeFileSync(path.join(dir, "plugin.sh"), `#!/bin/sh\necho x >> ${calls}\nprintf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat ${dir}/token)"\n`, { mode: 0o700 });
        const doc = yaml.load(target.kubeconfig) as { users: { user: Record<string, unknown> }[] };
        doc.users[0].user = { exec: { apiVersion: "client.authentication.k8s.io/v1", command: path.join(dir, "plugin.sh"), interactiveMode: "Never" } };
        fs.writeFileSync(path.join(dir, "target.kubeconfig"), yaml.dump(doc), { mode: 0o600 });
        try {
            const pods = await up("lpx", [["replicas", "1"]], path.join(dir, "target.kubeconfig"));
            assert.equal(pods.length, 1);
            assert.ok(fs.readFileSync(calls, "utf8").split("\n").filter(Boolean).length > 0, "the plugin ran");
            const secrets = (await clients(nodeCluster).core.listNamespacedSecret({ namespace: "kubemark-lpx" })).items;
            const text = JSON.stringify(secrets.map((x) => Object.values(x.data ?? {}).map((v) => Buffer.from(v, "base64").toString())));
            assert.ok(!text.includes(token) && !text.includes("plugin.sh"), "neither the plugin nor its token reaches the node cluster");
            const destroy = await pulumi(project, "lpx", ["destroy", "--yes", "--skip-preview"]);
            assert.equal(destroy.code, 0, destroy.out);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
