// The providers and the whole program against real API servers: a node cluster (with controllers) and a target.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kubernetesClusterApi } from "../../components/kube/clusterApi";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { NodeReaperProvider, PROVIDER_VERSION } from "../../components/reaper/provider";
import { labelPools } from "../../components/reaper/sync";
import { assignPodCidrs } from "../../components/reaper/podCidrs";
import * as k8s from "@kubernetes/client-node";
import { realClock } from "../../components/kube/async";
import { INSTANCE_LABEL_KEY, POOL_LABEL_KEY } from "../../components/hollow/names";
import { partPodSelector } from "../../components/hollow/pools";
import type { Rollout } from "../../components/kube/rollout";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets as playKubelets, leaseNames, nodeNames, register } from "../harness/fakeKubelets";
import { startPair, stopPair } from "../harness/clusterPair";
import { pulumi } from "../harness/pulumiCli";

const skip = missingTools();
const STACK = "realapi";
const NS = `kubemark-${STACK}`;
const MINE = `kubemark.${STACK}`;

describe("against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
    });

    after(() => stopPair({ nodeCluster, target, project }));

    it("NodeReaper deletes exactly its stack's Nodes and Leases through the real client", async () => {
        for (const [name, labels] of [["direct-0", { [STACK_LABEL_KEY]: "kubemark.direct" }], ["direct-1", { [STACK_LABEL_KEY]: "kubemark.direct" }],
            ["bystander", { [STACK_LABEL_KEY]: "kubemark.other" }]] as const) {
            await register(target, name, labels);
        }
        await new NodeReaperProvider().delete("id", {
            providerVersion: PROVIDER_VERSION, targetKubeconfig: target.kubeconfig, nodeKubeconfig: nodeCluster.kubeconfig,
            selector: `${STACK_LABEL_KEY}=kubemark.direct`, selectorKey: STACK_LABEL_KEY,
            namespace: "kubemark-direct", podSelector: "app.kubernetes.io/instance=hollow-node-direct", timeoutSeconds: 30,
        });
        assert.deepEqual(await nodeNames(target), ["bystander"]);
        assert.deepEqual(await leaseNames(target), ["bystander"]);
        const api = kubernetesClusterApi(target.kubeconfig, 5000);
        assert.equal(await api.deleteNode({ name: "direct-0", uid: "gone", resourceVersion: "1" }), "gone", "a second delete is a 404, not an error");
        assert.equal(await api.deleteNodeLease("direct-0"), false);
    });

    it("deletes a Node only while it is the object listed: relabelled or replaced since, it stays", async () => {
        const { core, coordination } = clients(target);
        const labels = { [STACK_LABEL_KEY]: "kubemark.pre" };
        for (const name of ["pre-0", "pre-1", "pre-2"]) {
            await register(target, name, labels);
        }
        const api = kubernetesClusterApi(target.kubeconfig, 5000);
        const refs = await api.listNodeRefs(`${STACK_LABEL_KEY}=kubemark.pre`);
        assert.deepEqual(refs.map((r) => r.name).sort(), ["pre-0", "pre-1", "pre-2"]);
        const ref = (name: string) => refs.find((r) => r.name === name)!;
        const moved = await core.readNode({ name: "pre-1" });
        moved.metadata!.labels = { [STACK_LABEL_KEY]: "kubemark.other" };
        await core.replaceNode({ name: "pre-1", body: moved });
        await core.deleteNode({ name: "pre-2" });
        await coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name: "pre-2" });
        await register(target, "pre-2", labels);
        assert.equal(await api.deleteNode(ref("pre-0")), "deleted");
        assert.equal(await api.deleteNode(ref("pre-1")), "changed", "relabelled since the list");
        assert.equal(await api.deleteNode(ref("pre-2")), "changed", "a new object under the same name");
        assert.deepEqual((await nodeNames(target)).filter((n) => n.startsWith("pre-")), ["pre-1", "pre-2"]);
        for (const name of ["pre-1", "pre-2"]) {
            await core.deleteNode({ name });
            await coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name });
        }
        await coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name: "pre-0" });
    });

    it("labels the stack's Nodes registered before pools with their pods' pool, and no other Node", async () => {
        const mine = { [STACK_LABEL_KEY]: "kubemark.legacy" };
        for (const [name, labels] of [["legacy-0", mine], ["legacy-1", mine], ["legacy-2", mine], ["other-0", { [STACK_LABEL_KEY]: "kubemark.other" }]] as const) {
            await register(target, name, labels);
        }
        const { core } = clients(nodeCluster);
        await core.createNamespace({ body: { metadata: { name: "kubemark-legacy" } } });
        const podLabels = { "app.kubernetes.io/name": "hollow-node", ...mine };
        for (const [name, pool] of [["legacy-0", "default"], ["legacy-1", "default"], ["other-0", "default"], ["legacy-2", undefined]] as const) {
            await core.createNamespacedPod({ namespace: "kubemark-legacy", body: {
                metadata: { name, labels: pool === undefined ? podLabels : { ...podLabels, [POOL_LABEL_KEY]: pool } },
                spec: { containers: [{ name: "c", image: "pause" }], nodeName: "nowhere" },
            } });
        }
        const req = { selector: `${STACK_LABEL_KEY}=kubemark.legacy`, selectorKey: STACK_LABEL_KEY, namespace: "kubemark-legacy",
            podSelector: `app.kubernetes.io/name=hollow-node,${STACK_LABEL_KEY}=kubemark.legacy`, replicas: 3, nodesPerPod: 1, deadline: Date.now() + 30_000 };
        const log: string[] = [];
        const labelled = await labelPools(kubernetesClusterApi(target.kubeconfig, 5000), kubernetesClusterApi(nodeCluster.kubeconfig, 5000), req,
            realClock, (line) => log.push(line));
        assert.deepEqual(labelled.sort(), ["legacy-0", "legacy-1"]);
        const poolOf = async (name: string) => (await clients(target).core.readNode({ name })).metadata!.labels![POOL_LABEL_KEY];
        assert.deepEqual(await Promise.all(["legacy-0", "legacy-1", "legacy-2", "other-0"].map(poolOf)), ["default", "default", undefined, undefined]);
        assert.match(log.join("\n"), /labelled 2 hollow Node\(s\) registered before pools/);
        assert.deepEqual(await labelPools(kubernetesClusterApi(target.kubeconfig, 5000), kubernetesClusterApi(nodeCluster.kubeconfig, 5000), req,
            realClock, () => undefined), [], "a second sync finds nothing to label");
        for (const name of ["legacy-0", "legacy-1", "legacy-2", "other-0"]) {
            await clients(target).core.deleteNode({ name });
            await clients(target).coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name });
        }
    });

    it("gives the stack's Nodes without a podCIDR a block of its range, around another's; a set podCIDR is never changed", async () => {
        const mine = { [STACK_LABEL_KEY]: "kubemark.ranged" };
        for (const [name, labels] of [["ranged-0", mine], ["ranged-1", mine], ["other-1", { [STACK_LABEL_KEY]: "kubemark.other" }]] as const) {
            await register(target, name, labels);
        }
        await clients(target).core.patchNode({ name: "other-1", body: { spec: { podCIDR: "10.64.0.0/24", podCIDRs: ["10.64.0.0/24"] } } },
            k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
        const api = kubernetesClusterApi(target.kubeconfig, 5000);
        const req = { selector: `${STACK_LABEL_KEY}=kubemark.ranged`, range: "10.64.0.0/16", mask: 24, deadline: Date.now() + 30_000 };
        assert.deepEqual((await assignPodCidrs(api, req, realClock, () => undefined)).sort(), ["ranged-0", "ranged-1"]);
        const cidrOf = async (name: string) => (await clients(target).core.readNode({ name })).spec!.podCIDR;
        assert.deepEqual(await Promise.all(["ranged-0", "ranged-1", "other-1"].map(cidrOf)), ["10.64.1.0/24", "10.64.2.0/24", "10.64.0.0/24"]);
        assert.equal(await api.setNodePodCidr("ranged-0", "10.64.9.0/24"), "taken", "the API server refuses a change (422)");
        assert.equal(await api.setNodePodCidr("no-such-node", "10.64.9.0/24"), "gone");
        assert.deepEqual(await assignPodCidrs(api, req, realClock, () => undefined), []);
        for (const name of ["ranged-0", "ranged-1", "other-1"]) {
            await clients(target).core.deleteNode({ name });
            await clients(target).coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name });
        }
    });

    it("a removed pool's reaper deletes exactly that pool's Nodes, once the pods of its workloads are gone", async () => {
        const stack = { [STACK_LABEL_KEY]: "kubemark.parts" };
        for (const [name, pool] of [["parts-gpu-0", "gpu"], ["parts-gpu-last-0", "gpu"], ["parts-general-0", "general"], ["other-gpu-0", undefined]] as const) {
            await register(target, name, pool === undefined ? { [STACK_LABEL_KEY]: "kubemark.other", [POOL_LABEL_KEY]: "gpu" } : { ...stack, [POOL_LABEL_KEY]: pool });
        }
        const { core } = clients(nodeCluster);
        await core.createNamespace({ body: { metadata: { name: "kubemark-parts" } } });
        const podLabels = { "app.kubernetes.io/name": "hollow-node", ...stack };
        for (const [name, workload] of [["parts-general-0", "parts-general"], ["parts-gpu-0", "parts-gpu"]] as const) {
            await core.createNamespacedPod({ namespace: "kubemark-parts", body: {
                metadata: { name, labels: { ...podLabels, [INSTANCE_LABEL_KEY]: workload } }, spec: { containers: [{ name: "c", image: "pause" }], nodeName: "nowhere" },
            } });
        }
        const podSelector = partPodSelector(`app.kubernetes.io/name=hollow-node,${STACK_LABEL_KEY}=kubemark.parts`, "parts-gpu");
        const reap = new NodeReaperProvider().delete("id", {
            providerVersion: PROVIDER_VERSION, targetKubeconfig: target.kubeconfig, nodeKubeconfig: nodeCluster.kubeconfig,
            selector: `${STACK_LABEL_KEY}=kubemark.parts,${POOL_LABEL_KEY}=gpu`, selectorKey: STACK_LABEL_KEY,
            namespace: "kubemark-parts", podSelector, timeoutSeconds: 60,
        });
        // The engine deletes the pool's workloads first: the reaper waits for their pods, not the general pool's.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        await core.deleteNamespacedPod({ namespace: "kubemark-parts", name: "parts-gpu-0", gracePeriodSeconds: 0 });
        await reap;
        const left = (await clients(target).core.listNode()).items.map((n) => n.metadata!.name!).filter((n) => n.includes("-gpu-") || n.startsWith("parts-")).sort();
        assert.deepEqual(left, ["other-gpu-0", "parts-general-0"]);
        for (const name of left) {
            await clients(target).core.deleteNode({ name });
            await clients(target).coordination.deleteNamespacedLease({ namespace: "kube-node-lease", name }).catch(() => undefined);
        }
        await core.deleteNamespace({ name: "kubemark-parts" });
    });

    it("reads how far each hollow workload has rolled out, as its controller reports it", { timeout: 120_000 }, async () => {
        const { core, apps } = clients(nodeCluster);
        await core.createNamespace({ body: { metadata: { name: "kubemark-rollout" } } });
        const labels = { "app.kubernetes.io/name": "hollow-node", [STACK_LABEL_KEY]: "kubemark.rollout" };
        const template = (image: string) => ({ metadata: { labels }, spec: { containers: [{ name: "c", image }], nodeName: "nowhere" } });
        await apps.createNamespacedStatefulSet({ namespace: "kubemark-rollout", body: {
            metadata: { name: "w", labels }, spec: { replicas: 1, serviceName: "w", selector: { matchLabels: labels }, template: template("pause") },
        } });
        await apps.createNamespacedDeployment({ namespace: "kubemark-rollout", body: {
            metadata: { name: "d", labels }, spec: { replicas: 0, selector: { matchLabels: labels }, template: template("pause") },
        } });
        const api = kubernetesClusterApi(nodeCluster.kubeconfig, 5000);
        const selector = `${STACK_LABEL_KEY}=kubemark.rollout`;
        const until = async (what: string, ok: (r: Rollout[]) => boolean) => {
            for (let i = 0; i < 100; i++) {
                const got = await api.listRollouts("kubemark-rollout", selector);
                if (ok(got)) {
                    return got;
                }
                await new Promise((resolve) => setTimeout(resolve, 300));
            }
            throw new Error(`${what}: ${JSON.stringify(await api.listRollouts("kubemark-rollout", selector))}`);
        };
        await until("both rolled out as created", (r) => r.length === 2 && r.every((x) => x.done));
        // A template change: the StatefulSet's pod never runs here (no kubelet), so its rollout stays unfinished.
        await apps.patchNamespacedStatefulSet({ namespace: "kubemark-rollout", name: "w", body: { spec: { template: template("pause:2") } } },
            k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
        const rolling = await until("the StatefulSet rolling", (r) => r.some((x) => x.name === "w" && !x.done && /pods on the new template/.test(x.detail)));
        assert.deepEqual(rolling.map((r) => [r.kind, r.name, r.done]), [["StatefulSet", "w", false], ["Deployment", "d", true]]);
        assert.deepEqual(await api.listRollouts("no-such-namespace", selector), []);
        await core.deleteNamespace({ name: "kubemark-rollout" });
    });

    it("lists Nodes as the API server's table, in pages, with readiness from the STATUS column", async () => {
        const { core } = clients(target);
        const names = Array.from({ length: 1100 }, (_, i) => `paged-${i}`);
        for (let i = 0; i < names.length; i += 50) {
            await Promise.all(names.slice(i, i + 50).map((name) => core.createNode({ body: { metadata: { name, labels: { [STACK_LABEL_KEY]: "kubemark.paged" } } } })));
        }
        await register(target, "paged-ready", { [STACK_LABEL_KEY]: "kubemark.paged" });
        const api = kubernetesClusterApi(target.kubeconfig, 15000);
        const listed = await api.listNodes(`${STACK_LABEL_KEY}=kubemark.paged`);
        assert.equal(listed.length, 1101, "every page was read (page size 500)");
        assert.deepEqual(listed.filter((n) => n.ready).map((n) => n.name), ["paged-ready"]);
        await new NodeReaperProvider().delete("id", {
            providerVersion: PROVIDER_VERSION, targetKubeconfig: target.kubeconfig, nodeKubeconfig: nodeCluster.kubeconfig,
            selector: `${STACK_LABEL_KEY}=kubemark.paged`, selectorKey: STACK_LABEL_KEY,
            namespace: "kubemark-paged", podSelector: "app.kubernetes.io/instance=hollow-node-paged", timeoutSeconds: 60,
        });
        assert.deepEqual(await api.listNodes(`${STACK_LABEL_KEY}=kubemark.paged`), []);
    });

    it("pulumi up, no-change up, scale-down, destroy with the target down, then destroy", { timeout: 900_000 }, async () => {
        await register(target, "real-worker", {});
        const configs: [string, string][] = [
            ["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "2"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "120"], ["reaperTimeoutSeconds", "20"],
        ];
        assert.equal((await pulumi(project, STACK, ["stack", "init"])).code, 0);
        for (const [k, v] of configs) {
            assert.equal((await pulumi(project, STACK, ["config", "set", k, v])).code, 0, `config set ${k}`);
        }
        const stopKubelets = playKubelets(nodeCluster, target, NS);
        try {
            const up = await pulumi(project, STACK, ["up", "--yes", "--skip-preview"]);
            assert.equal(up.code, 0, up.out);
            console.log(`pulumi up: ${up.seconds.toFixed(1)}s to 2 Ready hollow Nodes`);
            const outputs = JSON.parse((await pulumi(project, STACK, ["stack", "output", "--json", "--show-secrets"])).out);
            assert.equal(outputs.readyNodes, 2);
            assert.equal(outputs.nodeSelector, `${STACK_LABEL_KEY}=${MINE}`);
            assert.deepEqual(await nodeNames(target, outputs.nodeSelector), [`hollow-node-${STACK}-0`, `hollow-node-${STACK}-1`]);
            const node = await clients(target).core.readNode({ name: `hollow-node-${STACK}-0` });
            // (The API server's TaintNodesByCondition adds node.kubernetes.io/not-ready at registration; only ours
            // matters.)
            assert.ok(node.spec?.taints?.some((t) => `${t.key}=${t.value}:${t.effect}` === "kubemark-pulumi/hollow-node=true:NoSchedule"));
            assert.equal(node.metadata?.labels?.["hollow-node"], "true");

            const again = await pulumi(project, STACK, ["preview", "--expect-no-changes"]);
            assert.equal(again.code, 0, `a second up must have nothing to do:\n${again.out}`);

            assert.equal((await pulumi(project, STACK, ["config", "set", "replicas", "1"])).code, 0);
            const down = await pulumi(project, STACK, ["up", "--yes", "--skip-preview"]);
            assert.equal(down.code, 0, down.out);
            assert.deepEqual(await nodeNames(target, outputs.nodeSelector), [`hollow-node-${STACK}-0`]);
            assert.ok(!(await leaseNames(target)).includes(`hollow-node-${STACK}-1`));

            await target.stopApiserver();
            const refused = await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
            assert.notEqual(refused.code, 0);
            assert.match(refused.out, new RegExp(`cannot reach the target cluster's API server ${target.server.replace(/[.]/g, "\\.")}`));
            assert.match(refused.out, /run the command again/);
            console.log(`pulumi destroy with the target down: failed as expected after ${refused.seconds.toFixed(1)}s (bound 20s)`);
            assert.ok(refused.seconds < 120, `took ${refused.seconds}s`);

            await target.startApiserver();
            const destroy = await pulumi(project, STACK, ["destroy", "--yes", "--skip-preview"]);
            assert.equal(destroy.code, 0, destroy.out);
            console.log(`pulumi destroy: ${destroy.seconds.toFixed(1)}s`);
            assert.deepEqual(await nodeNames(target), ["bystander", "real-worker"]);
            assert.deepEqual(await leaseNames(target), ["bystander", "real-worker"]);
            const namespaces = (await clients(nodeCluster).core.listNamespace()).items.map((n) => n.metadata!.name);
            assert.ok(!namespaces.includes(NS), `${NS} still there`);
        } finally {
            await stopKubelets();
        }
    });

    it("Deployment: a pod deleted by hand comes back under a new name; the next up removes the orphan Node", { timeout: 600_000 }, async () => {
        const stack = "realdep";
        const selector = `${STACK_LABEL_KEY}=kubemark.${stack}`;
        const pods = async () => (await clients(nodeCluster).core.listNamespacedPod({ namespace: `kubemark-${stack}` })).items
            .filter((p) => !p.metadata!.deletionTimestamp).map((p) => p.metadata!.name!).sort();
        assert.equal((await pulumi(project, stack, ["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", "v1.30.4"], ["image", "127.0.0.1:5000/kubemark:v1.30.4"], ["replicas", "2"],
            ["workloadKind", "Deployment"], ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "120"], ["reaperTimeoutSeconds", "30"]]) {
            assert.equal((await pulumi(project, stack, ["config", "set", k, v])).code, 0);
        }
        const stopKubelets = playKubelets(nodeCluster, target, `kubemark-${stack}`);
        try {
            const up = await pulumi(project, stack, ["up", "--yes", "--skip-preview"]);
            assert.equal(up.code, 0, up.out);
            const before = await pods();
            assert.deepEqual(await nodeNames(target, selector), before);

            await clients(nodeCluster).core.deleteNamespacedPod({ name: before[0], namespace: `kubemark-${stack}` });
            for (let i = 0; i < 60 && (await nodeNames(target, selector)).length < 3; i++) {
                await new Promise((r) => setTimeout(r, 500));
            }
            assert.equal((await nodeNames(target, selector)).length, 3, "the replacement pod registered a new Node; the old one is orphaned");
            const drift = await pulumi(project, stack, ["preview", "--expect-no-changes"]);
            assert.notEqual(drift.code, 0, "the orphaned Node is drift a preview must show");
            const repair = await pulumi(project, stack, ["up", "--yes", "--skip-preview"]);
            assert.equal(repair.code, 0, repair.out);
            assert.deepEqual(await nodeNames(target, selector), await pods());
            assert.ok(!(await nodeNames(target)).includes(before[0]));

            const destroy = await pulumi(project, stack, ["destroy", "--yes", "--skip-preview"]);
            assert.equal(destroy.code, 0, destroy.out);
            assert.deepEqual(await nodeNames(target, selector), []);
        } finally {
            await stopKubelets();
        }
    });
});
