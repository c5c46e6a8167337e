// End to end in the lab at the newest release: kubemark pods built for the stack's release register Ready Nodes in a
// target of that release; the release before it runs beside them and moves to the newest in place.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { NEWEST_TESTED, testedReleaseOf } from "../components/config/releases";
import { inLabNetns, NETNS } from "../lab/hostNet";
import { clientsOf, kubeconfigFile, lab, LAB, labMissing, podUsage, sleep, waitUntil, WORKER } from "../lab/lab";
import { pulumiStart } from "../test/harness/pulumiCli";
import {
    allRunning, hollowNodes as nodesOf, hollowPods as podsOf, isReady, LabStacks, labImage, noRefusals, printFigures, report, reportUsage,
    selectorOf,
} from "./harness";

const skip = labMissing();
const STACK = "lab";
const NS = `kubemark-${STACK}`;
const SELECTOR = selectorOf(STACK);
const NEWEST = NEWEST_TESTED.text;
/** The release before the newest: beside it (a v1.37 target serves kubelets back to v1.34), then moved to it. */
const OLD = { stack: "previous", version: testedReleaseOf(NEWEST_TESTED.minor - 1)!.text };
/** Kubelets sharing one ServiceAccount (pod names not known in advance): the identity whose rules we write. */
const SHARED = { stack: "shared", replicas: 3 };
/** Several hollow nodes per pod: 4 per pod, so 10 is two full pods and a last pod of 2. */
const DENSE = { stack: "dense", perPod: 4 };

const hollowNodes = (selector = SELECTOR) => nodesOf(selector);
const hollowPods = (namespace = NS) => podsOf(namespace);

describe(`hollow nodes of ${NEWEST} for real in the lab`, { skip }, () => {
    let stacks: LabStacks;
    const images: Record<string, string> = {};
    const cli = (stack: string, args: string[]) => stacks.cli(stack, args);
    const configure = (stack: string, values: [string, string][]) => stacks.configure(stack, values);
    const up = (stack: string) => stacks.up(stack);

    before(async () => {
        // The clusters' addresses, which pods use too, are in the lab's network namespace: so is this process.
        assert.ok(inLabNetns(), `not inside network namespace ${NETNS}: run through lab/exec.sh (npm run test:e2e does)`);
        // Fresh clusters: nothing a previous run (or a demo) left in them counts here.
        const reset = await lab("down", "--wipe");
        assert.equal(reset.code, 0, reset.out);
        const started = await lab("up", "--target", NEWEST);
        assert.equal(started.code, 0, started.out);
        report(`lab up, target ${NEWEST}: ${started.seconds.toFixed(1)}s`);
        for (const version of [NEWEST, OLD.version]) {
            images[version] = await labImage(version);
        }
        stacks = new LabStacks();
        await stacks.create(STACK, [["image", images[NEWEST]]]);
        // The older release also runs unprivileged: no init container, the hollow kubelet without privilege.
        await stacks.create(OLD.stack, [["image", images[OLD.version]], ["kubernetesVersion", OLD.version], ["replicas", "3"], ["privileged", "false"]]);
        await stacks.create(DENSE.stack, [["image", images[NEWEST]], ["nodesPerPod", String(DENSE.perPod)]]);
        await stacks.create(SHARED.stack, [["image", images[NEWEST]], ["replicas", String(SHARED.replicas)], ["workloadKind", "Deployment"]]);
    });

    after(async () => {
        printFigures();
        await stacks?.cleanUp();
        const down = await lab("down");
        console.log(`[e2e] lab down: ${down.seconds.toFixed(1)}s (exit ${down.code})`);
    });

    it(`pulumi up: 10 Ready hollow Nodes of ${NEWEST}, from the lab registry's image by digest`, { timeout: 900_000 }, async () => {
        const seconds = await up(STACK);
        report(`pulumi up, 10 hollow nodes: ${seconds.toFixed(1)}s from start to all Ready`);
        const { core, apps } = clientsOf("node");
        await core.readNamespace({ name: NS });
        // Least privilege: the node cluster holds no admin key of the target, only the nodes' own certificates.
        const adminKey = /client-key-data: (\S+)/.exec(fs.readFileSync(kubeconfigFile("target"), "utf8"))![1];
        const secrets = (await core.listNamespacedSecret({ namespace: NS })).items;
        assert.deepEqual(secrets.map((x) => x.metadata!.name).sort(), [`hollow-node-${STACK}-certs-0`, `hollow-node-${STACK}-kubeconfig`]);
        for (const secret of secrets) {
            const text = Object.values(secret.data ?? {}).map((v) => Buffer.from(v, "base64").toString()).join("\n");
            assert.ok(!text.includes(adminKey) && !text.includes(Buffer.from(adminKey, "base64").toString()), `${secret.metadata!.name} holds the admin key`);
        }
        const csrs = await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: `kubemark-pulumi/stack=kubemark.${STACK}` });
        assert.equal(csrs.items.filter((c) => c.status?.certificate).length, 10, "one issued certificate per hollow node");
        assert.ok(csrs.items.every((c) => c.spec.signerName === "kubernetes.io/kube-apiserver-client-kubelet"));
        await apps.readNamespacedStatefulSet({ name: `hollow-node-${STACK}`, namespace: NS });
        const nodes = await hollowNodes();
        assert.equal(nodes.length, 10);
        for (const node of nodes) {
            assert.ok(isReady(node), `${node.metadata?.name} not Ready`);
            assert.equal(node.status?.nodeInfo?.kubeletVersion, NEWEST);
            assert.equal(node.metadata?.labels?.["hollow-node"], "true");
            assert.ok(node.spec?.taints?.some((t) => t.key === "kubemark-pulumi/hollow-node" && t.effect === "NoSchedule"));
        }
        const pods = await hollowPods();
        assert.equal(pods.length, 10);
        for (const pod of pods) {
            assert.equal(pod.spec?.nodeName, WORKER);
            for (const c of pod.spec?.containers ?? []) {
                assert.equal(c.image, images[NEWEST], "pods run the pushed digest");
            }
        }
    });

    it("every hollow pod keeps running, its hollow proxy included, and logs no refusal; usage of one pod at N = 10", { timeout: 300_000 }, async () => {
        await sleep(45_000);
        for (const pod of await hollowPods()) {
            const statuses = pod.status?.containerStatuses ?? [];
            assert.deepEqual(statuses.map((s) => s.name).sort(), ["hollow-kubelet", "hollow-proxy"]);
            for (const s of statuses) {
                assert.ok(s.state?.running, `${pod.metadata?.name}/${s.name} is not running: ${JSON.stringify(s.state)}`);
                assert.equal(s.restartCount, 0, `${pod.metadata?.name}/${s.name} restarted`);
            }
        }
        await noRefusals(NS, `${NEWEST}, a certificate per Node`);
        reportUsage(10, await podUsage(NS));
    });

    it("a pod bound to a hollow Node is reported Running by its hollow kubelet", { timeout: 180_000 }, async () => {
        const { core } = clientsOf("target");
        const nodeName = `hollow-node-${STACK}-0`;
        await core.createNamespacedPod({
            namespace: "default",
            body: {
                metadata: { name: "on-hollow" },
                spec: {
                    nodeName,
                    tolerations: [{ key: "kubemark-pulumi/hollow-node", operator: "Exists" }],
                    containers: [{ name: "app", image: "registry.example/app:1" }],
                },
            },
        });
        const seconds = await waitUntil("pod on a hollow Node Running",
            async () => (await core.readNamespacedPod({ name: "on-hollow", namespace: "default" })).status?.phase === "Running", 120_000);
        report(`pod bound to ${nodeName}: Running after ${seconds.toFixed(1)}s`);
        await core.deleteNamespacedPod({ name: "on-hollow", namespace: "default", gracePeriodSeconds: 0 });
    });

    it("a second up changes nothing", { timeout: 300_000 }, async () => {
        const run = await cli(STACK, ["preview", "--expect-no-changes"]);
        assert.equal(run.code, 0, run.out);
        report(`no-change preview: ${run.seconds.toFixed(1)}s`);
    });

    it("scale to 50: all Ready, usage of one pod at N = 50", { timeout: 1_200_000 }, async () => {
        await configure(STACK, [["replicas", "50"]]);
        const seconds = await up(STACK);
        report(`pulumi up 10 -> 50 hollow nodes: ${seconds.toFixed(1)}s to all Ready`);
        assert.equal((await hollowNodes()).filter(isReady).length, 50);
        await sleep(45_000);
        reportUsage(50, await podUsage(NS));
    });

    it("scale to 5: exactly 5 hollow Nodes; a hollow pod deleted by hand leaves no extra Node", { timeout: 900_000 }, async () => {
        await configure(STACK, [["replicas", "5"]]);
        await up(STACK);
        const names = (await hollowNodes()).map((n) => n.metadata!.name!).sort();
        assert.deepEqual(names, [0, 1, 2, 3, 4].map((i) => `hollow-node-${STACK}-${i}`));
        await clientsOf("node").core.deleteNamespacedPod({ name: `hollow-node-${STACK}-2`, namespace: NS });
        await up(STACK);
        assert.deepEqual((await hollowNodes()).map((n) => n.metadata!.name!).sort(), names);
        assert.equal((await hollowNodes()).filter(isReady).length, 5);
    });

    it("a hollow pod killed mid-up is replaced and the up still converges", { timeout: 900_000 }, async () => {
        await configure(STACK, [["replicas", "8"]]);
        const run = pulumiStart(stacks.project, STACK, ["up", "--yes", "--skip-preview"]);
        const victim = `hollow-node-${STACK}-6`;
        const { core } = clientsOf("node");
        await waitUntil(`${victim} running`, async () =>
            (await core.readNamespacedPod({ name: victim, namespace: NS })).status?.phase === "Running", 300_000, 500);
        await core.deleteNamespacedPod({ name: victim, namespace: NS, gracePeriodSeconds: 0 });
        const done = await run.done;
        assert.equal(done.code, 0, done.out);
        report(`up 5 -> 8 with ${victim} killed midway: converged in ${done.seconds.toFixed(1)}s`);
        assert.equal((await hollowNodes()).filter(isReady).length, 8);
    });

    it(`${DENSE.perPod} hollow nodes per pod: register as <pod>-<k>; scale down across a pod boundary and back; destroy leaves nothing`, { timeout: 1_200_000 }, async () => {
        const selector = selectorOf(DENSE.stack);
        const ns = `kubemark-${DENSE.stack}`;
        const w = `hollow-node-${DENSE.stack}`;
        const names = async () => (await hollowNodes(selector)).map((n) => n.metadata!.name!).sort();
        const readyCount = async () => (await hollowNodes(selector)).filter(isReady).length;
        const seconds = await up(DENSE.stack);
        report(`pulumi up, 10 hollow nodes at ${DENSE.perPod} per pod (3 pods): ${seconds.toFixed(1)}s from start to all Ready`);
        const full = (pod: number) => [0, 1, 2, 3].map((k) => `${w}-${pod}-${k}`);
        assert.deepEqual(await names(), [...full(0), ...full(1), `${w}-last-0-0`, `${w}-last-0-1`].sort());
        assert.equal(await readyCount(), 10);
        const pods = await hollowPods(ns);
        assert.deepEqual(pods.map((p) => p.metadata!.name!).sort(), [`${w}-0`, `${w}-1`, `${w}-last-0`]);
        const csrs = await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: selector });
        assert.equal(csrs.items.filter((c) => c.status?.certificate).length, 10, "one certificate per hollow node, not per pod");
        await sleep(30_000);
        await allRunning(ns);
        const usage = await podUsage(ns);
        const fullPod = usage.get(`${w}-0`)!;
        const sum = (prefix: string, k: "memoryMiB" | "millicores") => Object.entries(fullPod).filter(([c]) => c.startsWith(prefix)).reduce((a, [, u]) => a + u[k], 0);
        report(`one pod of ${DENSE.perPod}: kubelets ${sum("hollow-kubelet", "memoryMiB").toFixed(1)} MiB, ${sum("hollow-kubelet", "millicores").toFixed(1)}m; ` +
            `proxies ${sum("hollow-proxy", "memoryMiB").toFixed(1)} MiB, ${sum("hollow-proxy", "millicores").toFixed(1)}m`);

        // 10 -> 6: pod 1 goes with its four Nodes; the last pod keeps its two.
        await configure(DENSE.stack, [["replicas", "6"]]);
        const down = await up(DENSE.stack);
        report(`up 10 -> 6 at ${DENSE.perPod} per pod: ${down.toFixed(1)}s`);
        assert.deepEqual(await names(), [...full(0), `${w}-last-0-0`, `${w}-last-0-1`].sort());
        // 6 -> 8: two full pods, no last pod; its Nodes are swept.
        await configure(DENSE.stack, [["replicas", "8"]]);
        const back = await up(DENSE.stack);
        report(`up 6 -> 8 at ${DENSE.perPod} per pod: ${back.toFixed(1)}s`);
        assert.deepEqual(await names(), [...full(0), ...full(1)].sort());
        assert.equal(await readyCount(), 8);
        assert.deepEqual((await hollowPods(ns)).map((p) => p.metadata!.name!).sort(), [`${w}-0`, `${w}-1`]);

        const destroy = await cli(DENSE.stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        report(`destroy of 8 hollow nodes at ${DENSE.perPod} per pod: ${destroy.seconds.toFixed(1)}s`);
        assert.deepEqual(await names(), []);
        const leases = (await clientsOf("target").coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items.map((l) => l.metadata!.name!);
        assert.deepEqual(leases.filter((l) => l.startsWith(`${w}-`)), []);
        assert.deepEqual((await clientsOf("target").certificates.listCertificateSigningRequest({ labelSelector: selector })).items, []);
    });

    it(`${NEWEST}, kubelets sharing one identity (Deployment): Ready, and no hollow container logs a refusal`, { timeout: 900_000 }, async () => {
        const seconds = await up(SHARED.stack);
        report(`pulumi up, ${SHARED.replicas} hollow nodes of a Deployment (shared identity): ${seconds.toFixed(1)}s to all Ready`);
        const selector = selectorOf(SHARED.stack);
        assert.equal((await hollowNodes(selector)).filter(isReady).length, SHARED.replicas);
        await sleep(45_000);
        await noRefusals(`kubemark-${SHARED.stack}`, `${NEWEST}, the shared identity`);
        const destroy = await cli(SHARED.stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.deepEqual(await hollowNodes(selector), []);
    });

    it(`${OLD.version} beside ${NEWEST}, then moved to ${NEWEST} in place: up returns when every Node runs it; destroy leaves the other stack`, { timeout: 1_200_000 }, async () => {
        const selector = selectorOf(OLD.stack);
        await up(OLD.stack);
        const old = await hollowNodes(selector);
        assert.equal(old.filter(isReady).length, 3);
        const oldPods = await hollowPods(`kubemark-${OLD.stack}`);
        assert.ok(oldPods.every((p) => (p.spec?.initContainers ?? []).length === 0 && !JSON.stringify(p.spec).includes('"privileged":true')),
            "privileged false: no init container and nothing privileged");
        assert.ok(old.every((n) => n.status?.nodeInfo?.kubeletVersion === OLD.version));
        assert.ok((await hollowNodes()).every((n) => n.status?.nodeInfo?.kubeletVersion === NEWEST));
        const uids = new Map(old.map((n) => [n.metadata!.name!, n.metadata!.uid!]));

        await configure(OLD.stack, [["kubernetesVersion", NEWEST], ["image", images[NEWEST]]]);
        const moved = await up(OLD.stack);
        const now = await hollowNodes(selector);
        report(`up ${OLD.version} -> ${NEWEST} in place, 3 hollow nodes: ${moved.toFixed(1)}s until every Node reported ${NEWEST}`);
        assert.deepEqual(now.map((n) => `${n.metadata!.name}:${n.status?.nodeInfo?.kubeletVersion}:${isReady(n)}`).sort(),
            [...uids.keys()].map((name) => `${name}:${NEWEST}:true`).sort(), "right when up returned");
        assert.ok(now.every((n) => uids.get(n.metadata!.name!) === n.metadata!.uid), "the same Nodes, re-registered by the new kubelets");

        const before = (await hollowNodes()).map((n) => `${n.metadata!.name}@${n.metadata!.uid}`).sort();
        const destroy = await cli(OLD.stack, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.deepEqual(await hollowNodes(selector), []);
        assert.deepEqual((await hollowNodes()).map((n) => `${n.metadata!.name}@${n.metadata!.uid}`).sort(), before);
    });

    it("destroy with the target API server stopped fails within the bound; once it is back, destroy leaves nothing", { timeout: 900_000 }, async () => {
        const pid = Number(fs.readFileSync(`${LAB}/run/kube-apiserver-target.pid`, "utf8"));
        // An outage, not a shutdown: with hollow kubelets connected, a graceful stop drains for up to a minute.
        process.kill(pid, "SIGKILL");
        // The lab's daemons are children of pid 1 here, which reaps them late: a zombie has stopped.
        const gone = () => !fs.existsSync(`/proc/${pid}/stat`) || fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
        await waitUntil("target API server stopped", async () => gone(), 30_000, 200);
        const refused = await cli(STACK, ["destroy", "--yes", "--skip-preview"]);
        assert.notEqual(refused.code, 0);
        assert.match(refused.out, /cannot reach the target cluster's API server/);
        report(`destroy with the target down: failed after ${refused.seconds.toFixed(1)}s (bound 120s)`);
        assert.ok(refused.seconds < 240);
        const back = await lab("up", "--target", NEWEST);
        assert.equal(back.code, 0, back.out);
        const destroy = await cli(STACK, ["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        report(`pulumi destroy of 8 hollow nodes: ${destroy.seconds.toFixed(1)}s`);
        const target = clientsOf("target");
        assert.deepEqual((await target.core.listNode({ labelSelector: "hollow-node=true" })).items.map((n) => n.metadata!.name), []);
        const leases = (await target.coordination.listNamespacedLease({ namespace: "kube-node-lease" })).items.map((l) => l.metadata!.name!);
        assert.deepEqual(leases.filter((l) => l.startsWith("hollow-node-")), []);
        await waitUntil(`${NS} gone`, async () => !(await clientsOf("node").core.listNamespace()).items.some((n) => n.metadata?.name === NS), 120_000);
        const worker = await clientsOf("node").core.readNode({ name: WORKER });
        assert.ok(isReady(worker), "the lab's real worker is untouched and Ready");
    });
});
