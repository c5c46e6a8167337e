// Data safety against real API servers: a stack never takes over, overwrites or deletes what it did not create.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets, nodeNames, register } from "../harness/fakeKubelets";
import { startPair, stopPair } from "../harness/clusterPair";
import { pulumi, pulumiStart } from "../harness/pulumiCli";

const skip = missingTools();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("ownership against real API servers", { skip }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
    });

    after(() => stopPair({ nodeCluster, target, project }));

    async function stack(name: string, extra: [string, string][]): Promise<void> {
        assert.equal((await pulumi(project, name, ["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "2"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "120"], ["reaperTimeoutSeconds", "30"], ...extra]) {
            assert.equal((await pulumi(project, name, ["config", "set", k, v])).code, 0, `config set ${k}`);
        }
    }

    /** Someone else's namespace, holding a ConfigMap written by kubectl. */
    async function foreignNamespace(name: string): Promise<void> {
        const { core } = clients(nodeCluster);
        await core.createNamespace({ body: { metadata: { name, labels: { team: "a" } } }, fieldManager: "kubectl-create" });
        await core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: "precious" }, data: { k: "v" } }, fieldManager: "kubectl-create" });
    }

    async function namespaceObjects(ns: string): Promise<{ namespace: string | undefined; configMaps: string[]; secrets: string[]; statefulSets: string[] }> {
        const { core, apps } = clients(nodeCluster);
        const namespace = await core.readNamespace({ name: ns }).then((n) => n.metadata?.deletionTimestamp ? "terminating" : "active", () => undefined);
        return {
            namespace,
            configMaps: (await core.listNamespacedConfigMap({ namespace: ns })).items.map((c) => c.metadata!.name!).filter((n) => n !== "kube-root-ca.crt").sort(),
            secrets: (await core.listNamespacedSecret({ namespace: ns })).items.map((c) => c.metadata!.name!).sort(),
            statefulSets: (await apps.listNamespacedStatefulSet({ namespace: ns })).items.map((c) => c.metadata!.name!).sort(),
        };
    }

    it("an existing namespace with data: up is refused, naming the owner; namespace and data intact", { timeout: 300_000 }, async () => {
        await foreignNamespace("team-a");
        await stack("taken", [["namespace", "team-a"]]);
        const up = await pulumi(project, "taken", ["up", "--yes"]);
        assert.notEqual(up.code, 0);
        assert.match(up.out, /Namespace team-a already exists in the node cluster \(https:\/\/127\.0\.0\.1:\d+\) and is not this stack's \(kubemark-pulumi\/stack=kubemark\.taken\): labels .*team=a/);
        assert.match(up.out, /managed by kubectl-create/);
        assert.match(up.out, /kubemark:createNamespace false/);
        console.log(`up into a foreign namespace: refused after ${up.seconds.toFixed(1)}s`);
        assert.deepEqual(await namespaceObjects("team-a"), { namespace: "active", configMaps: ["precious"], secrets: [], statefulSets: [] });
        const ns = await clients(nodeCluster).core.readNamespace({ name: "team-a" });
        assert.equal(ns.metadata?.labels?.[STACK_LABEL_KEY], undefined, "the stack's label was not applied");
        assert.deepEqual(await nodeNames(target, `${STACK_LABEL_KEY}=kubemark.taken`), []);
        const destroy = await pulumi(project, "taken", ["destroy", "--yes"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.equal((await namespaceObjects("team-a")).namespace, "active", "destroy of the refused stack leaves the namespace");
    });

    it("an existing Secret of the stack's name in a namespace it uses: refused, Secret intact", { timeout: 300_000 }, async () => {
        await foreignNamespace("team-b");
        const { core } = clients(nodeCluster);
        await core.createNamespacedSecret({
            namespace: "team-b", fieldManager: "kubectl-create",
            body: { metadata: { name: "hollow-node-clash-kubeconfig" }, stringData: { "kubelet.kubeconfig": "theirs" } },
        });
        await stack("clash", [["namespace", "team-b"], ["createNamespace", "false"]]);
        const up = await pulumi(project, "clash", ["up", "--yes"]);
        assert.notEqual(up.code, 0);
        assert.match(up.out, /Secret team-b\/hollow-node-clash-kubeconfig already exists in the node cluster .*\(no kubemark-pulumi\/stack label\)/);
        const secret = await core.readNamespacedSecret({ name: "hollow-node-clash-kubeconfig", namespace: "team-b" });
        assert.equal(Buffer.from(secret.data!["kubelet.kubeconfig"], "base64").toString(), "theirs");
        assert.deepEqual(Object.keys(secret.data!), ["kubelet.kubeconfig"]);
        assert.deepEqual((await namespaceObjects("team-b")).statefulSets, []);
    });

    it("createNamespace false: up and destroy inside an existing namespace leave it and its other objects", { timeout: 600_000 }, async () => {
        await foreignNamespace("team-c");
        await stack("guest", [["namespace", "team-c"], ["createNamespace", "false"]]);
        const stopKubelets = fakeKubelets(nodeCluster, target, "team-c");
        try {
            const up = await pulumi(project, "guest", ["up", "--yes"]);
            assert.equal(up.code, 0, up.out);
            assert.deepEqual(await namespaceObjects("team-c"),
                { namespace: "active", configMaps: ["precious"], secrets: ["hollow-node-guest-certs-0", "hollow-node-guest-kubeconfig"], statefulSets: ["hollow-node-guest", "hollow-node-guest-last"] });
            assert.deepEqual(await nodeNames(target, `${STACK_LABEL_KEY}=kubemark.guest`), ["hollow-node-guest-0", "hollow-node-guest-1"]);
            const again = await pulumi(project, "guest", ["preview", "--expect-no-changes"]);
            assert.equal(again.code, 0, again.out);
            const destroy = await pulumi(project, "guest", ["destroy", "--yes"]);
            assert.equal(destroy.code, 0, destroy.out);
        } finally {
            await stopKubelets();
        }
        assert.deepEqual(await namespaceObjects("team-c"), { namespace: "active", configMaps: ["precious"], secrets: [], statefulSets: [] });
        assert.deepEqual(await nodeNames(target, `${STACK_LABEL_KEY}=kubemark.guest`), []);
    });

    it("unlabelled Nodes under the kubelets' names: refused before anything is created", { timeout: 300_000 }, async () => {
        await register(target, "hollow-node-squat-1", { owner: "someone" });
        await stack("squat", []);
        const up = await pulumi(project, "squat", ["up", "--yes"]);
        assert.notEqual(up.code, 0);
        assert.match(up.out, /1 Node\(s\) with the names this stack's hollow kubelets register under already exist in the target cluster .*hollow-node-squat-1/);
        assert.equal((await namespaceObjects("kubemark-squat")).namespace, undefined);
        assert.deepEqual(await nodeNames(target, "owner=someone"), ["hollow-node-squat-1"]);
    });

    it("what an interrupted up left (this stack's by label, written by another field manager, not in state) is taken back", { timeout: 600_000 }, async () => {
        // Exactly what a run killed mid-create leaves: the provider had drawn a random field manager for it.
        const dead = "pulumi-kubernetes-0a1b2c3d";
        const labels = { "app.kubernetes.io/name": "hollow-node", "app.kubernetes.io/instance": "hollow-node-left", [STACK_LABEL_KEY]: "kubemark.left" };
        const { core, apps } = clients(nodeCluster);
        // (A workload is left out: changing its pod template here would wait on a rollout no kubelet completes.)
        await core.createNamespace({ body: { metadata: { name: "kubemark-left", labels: { [STACK_LABEL_KEY]: "kubemark.left" } } }, fieldManager: dead });
        await core.createNamespacedSecret({ namespace: "kubemark-left", fieldManager: dead,
            body: { metadata: { name: "hollow-node-left-kubeconfig", labels }, stringData: { "kubelet.kubeconfig": "stale" } } });
        await stack("left", []);
        const stopKubelets = fakeKubelets(nodeCluster, target, "kubemark-left");
        try {
            const up = await pulumi(project, "left", ["up", "--yes", "--skip-preview"]);
            assert.equal(up.code, 0, up.out);
            const secret = await core.readNamespacedSecret({ name: "hollow-node-left-kubeconfig", namespace: "kubemark-left" });
            assert.match(Buffer.from(secret.data!["kubelet.kubeconfig"], "base64").toString(), /apiVersion: v1/, "the stale value is replaced");
            assert.ok(secret.metadata?.managedFields?.some((f) => f.manager === "kubemark-pulumi"), "applied by the stack's one field manager");
            const sts = await apps.readNamespacedStatefulSet({ name: "hollow-node-left", namespace: "kubemark-left" });
            assert.ok(sts.metadata?.managedFields?.some((f) => f.manager === "kubemark-pulumi"));
            const destroy = await pulumi(project, "left", ["destroy", "--yes"]);
            assert.equal(destroy.code, 0, destroy.out);
        } finally {
            await stopKubelets();
        }
    });

    it("an up killed midway converges on the next up, and destroy removes everything it made", { timeout: 900_000 }, async () => {
        await stack("crash", []);
        const first = pulumiStart(project, "crash", ["up", "--yes", "--skip-preview"]);
        // Kill it as soon as its namespace exists: the create may or may not be recorded in state yet.
        const { core } = clients(nodeCluster);
        let killedAfter = "";
        for (let i = 0; i < 600 && !killedAfter; i++) {
            if (await core.readNamespace({ name: "kubemark-crash" }).then(() => true, () => false)) {
                first.kill();
                killedAfter = "the namespace appeared";
            }
            await sleep(100);
        }
        const killed = await first.done;
        assert.ok(killedAfter, `the first up never created its namespace:\n${killed.out}`);
        console.log(`first up killed after ${killed.seconds.toFixed(1)}s (${killedAfter})`);
        // A killed CLI leaves its lock; the rerun says so and names `pulumi cancel`, which a user runs first.
        const locked = await pulumi(project, "crash", ["up", "--yes", "--skip-preview"]);
        assert.notEqual(locked.code, 0);
        assert.match(locked.out, /locked/);
        const cancel = await pulumi(project, "crash", ["cancel", "--yes"]);
        assert.equal(cancel.code, 0, cancel.out);
        const stopKubelets = fakeKubelets(nodeCluster, target, "kubemark-crash");
        try {
            const rerun = await pulumi(project, "crash", ["up", "--yes", "--skip-preview"]);
            assert.equal(rerun.code, 0, rerun.out);
            const pending = /pending operations from previous deployment/.test(rerun.out) ? "with" : "without";
            console.log(`rerun after the killed up (${pending} an interrupted operation in state): ${rerun.seconds.toFixed(1)}s`);
            assert.deepEqual(await nodeNames(target, `${STACK_LABEL_KEY}=kubemark.crash`), ["hollow-node-crash-0", "hollow-node-crash-1"]);
            const again = await pulumi(project, "crash", ["preview", "--expect-no-changes"]);
            assert.equal(again.code, 0, again.out);
            const destroy = await pulumi(project, "crash", ["destroy", "--yes"]);
            assert.equal(destroy.code, 0, destroy.out);
        } finally {
            await stopKubelets();
        }
        for (let i = 0; i < 100 && (await namespaceObjects("kubemark-crash")).namespace !== undefined; i++) {
            await sleep(300);
        }
        assert.equal((await namespaceObjects("kubemark-crash")).namespace, undefined, "the namespace the killed up made is gone");
        assert.deepEqual(await nodeNames(target, `${STACK_LABEL_KEY}=kubemark.crash`), []);
    });
});
