// One Ctrl-C during up's or destroy's long waits stops the real CLI within seconds; the next command converges.
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { startPair, stopPair } from "../harness/clusterPair";
import { ControlPlane, missingTools } from "../harness/controlPlane";
import { clients, fakeKubelets, leaseNames, nodeNames } from "../harness/fakeKubelets";
import { pulumi, pulumiStart, Started } from "../harness/pulumiCli";

const STACK = "cancel";
const NS = `kubemark-${STACK}`;
const SELECTOR = `${STACK_LABEL_KEY}=kubemark.${STACK}`;
/** What the issue asks: one Ctrl-C ends the CLI within this, however long the wait's own bound. */
const STOP_WITHIN_S = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForOutput(run: Started, pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(run.output())) {
        if (Date.now() > deadline) {
            run.kill();
            throw new Error(`never printed ${pattern}:\n${run.output()}`);
        }
        await sleep(250);
    }
}

/** Sends one SIGINT once the CLI printed `pattern`; returns how long the CLI took to exit after it. */
async function interruptAt(run: Started, pattern: RegExp): Promise<{ seconds: number; out: string; code: number }> {
    await waitForOutput(run, pattern, 240_000);
    await sleep(3000);
    const sent = Date.now();
    run.interrupt();
    const done = await run.done;
    return { seconds: (Date.now() - sent) / 1000, out: done.out, code: done.code };
}

describe("Ctrl-C and an unreachable node cluster, against real API servers", { skip: missingTools() }, () => {
    let nodeCluster: ControlPlane;
    let target: ControlPlane;
    let project: string;
    const cli = (args: string[]) => pulumi(project, STACK, args);

    before(async () => {
        ({ nodeCluster, target, project } = await startPair());
        assert.equal((await cli(["stack", "init"])).code, 0);
        for (const [k, v] of [["kubernetesVersion", "v1.31.0"], ["image", "127.0.0.1:5000/kubemark:v1.31.0"], ["replicas", "3"],
            ["nodeKubeconfig", nodeCluster.kubeconfigFile], ["targetKubeconfig", target.kubeconfigFile],
            ["readyTimeoutSeconds", "300"], ["reaperTimeoutSeconds", "300"]]) {
            assert.equal((await cli(["config", "set", k, v])).code, 0, `config set ${k}`);
        }
    });

    after(() => stopPair({ nodeCluster, target, project }));

    it("one SIGINT during a 300 s readiness wait ends up within seconds; the next up converges", { timeout: 900_000 }, async () => {
        // No kubelets yet: readiness waits for Nodes that never come.
        const up = pulumiStart(project, STACK, ["up", "--yes", "--skip-preview"]);
        const stopped = await interruptAt(up, /bringing this stack's hollow Nodes to 3 Ready/);
        console.log(`up interrupted during readiness: the CLI exited ${stopped.seconds.toFixed(1)}s after one SIGINT (code ${stopped.code})`);
        assert.notEqual(stopped.code, 0);
        assert.ok(stopped.seconds < STOP_WITHIN_S, `${stopped.seconds}s:\n${stopped.out}`);
        assert.match(stopped.out, /Ctrl-C stops the wait within seconds/);
        assert.match(stopped.out, /cancelled \(Ctrl-C\) while waiting for the hollow Nodes/);

        const stop = fakeKubelets(nodeCluster, target, NS);
        try {
            const again = await cli(["up", "--yes", "--skip-preview"]);
            assert.equal(again.code, 0, again.out);
            assert.equal((await nodeNames(target, SELECTOR)).length, 3);
            const preview = await cli(["preview", "--expect-no-changes"]);
            assert.equal(preview.code, 0, preview.out);
        } finally {
            await stop();
        }
    });

    it("one SIGINT while destroy waits for a pod that does not stop ends destroy within seconds; the next destroy finishes", { timeout: 900_000 }, async () => {
        const { core } = clients(nodeCluster);
        const [pod] = (await core.listNamespacedPod({ namespace: NS })).items;
        // A finalizer keeps the pod terminating, as a node that does not answer keeps its pods.
        await core.patchNamespacedPod({ name: pod.metadata!.name!, namespace: NS, body: [{ op: "add", path: "/metadata/finalizers", value: ["kubemark.test/hold"] }] },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
        const destroy = pulumiStart(project, STACK, ["destroy", "--yes", "--skip-preview"]);
        const stopped = await interruptAt(destroy, /removing this stack's hollow Nodes once its pods are gone/);
        console.log(`destroy interrupted during the pod wait: the CLI exited ${stopped.seconds.toFixed(1)}s after one SIGINT (code ${stopped.code})`);
        assert.notEqual(stopped.code, 0);
        assert.ok(stopped.seconds < STOP_WITHIN_S, `${stopped.seconds}s:\n${stopped.out}`);
        assert.match(stopped.out, /destroy cancelled \(Ctrl-C\).*run `pulumi destroy` again/);
        assert.equal((await nodeNames(target, SELECTOR)).length, 3, "no Node was removed while a pod could still re-register it");

        await core.patchNamespacedPod({ name: pod.metadata!.name!, namespace: NS, body: [{ op: "remove", path: "/metadata/finalizers" }] },
            setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
        const finish = await cli(["destroy", "--yes", "--skip-preview"]);
        assert.equal(finish.code, 0, finish.out);
        assert.deepEqual(await nodeNames(target, SELECTOR), []);
        const before = await nodeNames(target);
        assert.deepEqual((await leaseNames(target)).filter((l) => l.startsWith(`hollow-node-${STACK}`)), [], before.join(", "));
    });

    it("destroy with the node cluster down stops with the program's own message: which cluster, why, and what the variable would cost", { timeout: 900_000 }, async () => {
        const stop = fakeKubelets(nodeCluster, target, NS);
        try {
            const up = await cli(["up", "--yes", "--skip-preview"]);
            assert.equal(up.code, 0, up.out);
        } finally {
            await stop();
        }
        await nodeCluster.stopApiserver();
        const refused = await cli(["destroy", "--yes", "--skip-preview"]);
        console.log(`destroy with the node cluster down: failed after ${refused.seconds.toFixed(1)}s`);
        assert.notEqual(refused.code, 0);
        assert.match(refused.out, new RegExp(`cannot reach the node cluster's API server ${nodeCluster.server.replace(/[.]/g, "\\.")}`));
        assert.match(refused.out, /Do not set PULUMI_K8S_DELETE_UNREACHABLE=true/);
        assert.doesNotMatch(refused.out, /rerun with PULUMI_K8S_DELETE_UNREACHABLE/, "the kubernetes plugin's advice is not reached");
        assert.equal((await nodeNames(target, SELECTOR)).length, 3);

        await nodeCluster.startApiserver();
        const destroy = await cli(["destroy", "--yes", "--skip-preview"]);
        assert.equal(destroy.code, 0, destroy.out);
        assert.deepEqual(await nodeNames(target, SELECTOR), []);
    });
});
