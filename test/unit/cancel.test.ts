// One Ctrl-C ends every long wait of the providers within a poll, saying what is left and what the next command does.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { EngineCancel } from "../../components/kube/dynamic";
import { HollowNodeSyncProvider, NodeReaperProvider, PROVIDER_VERSION } from "../../components/reaper/provider";
import { FakeClock, FakeCluster } from "../harness/fakeCluster";

const MINE = { [STACK_LABEL_KEY]: "kubemark.v1-31" };
const NS = "kubemark-v1-31";
const POD_LABELS = { "app.kubernetes.io/instance": "hollow-node-v1-31" };
const T0 = 1_000_000;
const base = {
    providerVersion: PROVIDER_VERSION, targetKubeconfig: "target", nodeKubeconfig: "node",
    selector: `${STACK_LABEL_KEY}=kubemark.v1-31`, selectorKey: STACK_LABEL_KEY, namespace: NS,
    podSelector: "app.kubernetes.io/instance=hollow-node-v1-31",
};

/** A cluster pair, a fake clock, and a Ctrl-C that arrives `afterMs` into the command. */
function world(afterMs: number) {
    const target = new FakeCluster("https://target.test:6443");
    const node = new FakeCluster("https://node.test:6443");
    const clock = new FakeClock();
    const controller = new AbortController();
    const cancel: EngineCancel = { signal: controller.signal, hooked: true };
    clock.onSleep = (t) => {
        if (t >= T0 + afterMs) {
            controller.abort();
        }
    };
    const logs: string[] = [];
    const factory = (kc: string) => (kc === "target" ? target : node);
    return { target, node, clock, cancel, logs, factory, log: (m: string) => logs.push(m) };
}

describe("a Ctrl-C during a wait", () => {
    it("ends up's 600 s readiness wait within a poll, leaving the Nodes as they are", async () => {
        const w = world(6000);
        for (const n of ["w-0", "w-1", "w-2"]) {
            w.node.addPod(n, NS, POD_LABELS);
            w.target.addNode(n, MINE, n === "w-0");
        }
        const provider = new HollowNodeSyncProvider(w.factory, w.clock, w.log, w.cancel);
        await assert.rejects(provider.create({ ...base, replicas: 3, nodesPerPod: 1, readyTimeoutSeconds: 600, sweepTimeoutSeconds: 180, workloadFingerprint: "f" }),
            /cancelled \(Ctrl-C\) while waiting for the hollow Nodes: the workload stays as applied, and the next `pulumi up` waits again/);
        assert.ok(w.clock.t - T0 <= 6000 + 2000, `stopped ${(w.clock.t - T0) / 1000}s in`);
        assert.equal(w.target.nodes.size, 3);
        assert.match(w.logs[0], /at most 780s; Ctrl-C stops the wait within seconds, and the next `pulumi up` picks it up/);
    });

    it("ends the sweep's wait for a layout the pods never reach", async () => {
        const w = world(10_000);
        w.node.addPod("w-0", NS, POD_LABELS);
        const provider = new HollowNodeSyncProvider(w.factory, w.clock, w.log, w.cancel);
        await assert.rejects(provider.update("id", {} as never, { ...base, replicas: 6, nodesPerPod: 3, readyTimeoutSeconds: 600, sweepTimeoutSeconds: 180, workloadFingerprint: "f" }),
            /cancelled \(Ctrl-C\)/);
        assert.ok(w.clock.t - T0 <= 12_000, `stopped ${(w.clock.t - T0) / 1000}s in`);
    });

    it("ends destroy's wait for pods that do not stop, deleting no Node, and says to run destroy again", async () => {
        const w = world(8000);
        w.node.addPod("w-0", NS, POD_LABELS, true);
        w.target.addNode("w-0", MINE);
        const provider = new NodeReaperProvider(w.factory, w.clock, w.log, w.cancel);
        await assert.rejects(provider.delete("id", { ...base, timeoutSeconds: 180 }),
            /destroy cancelled \(Ctrl-C\) before every hollow Node with kubemark-pulumi\/stack=kubemark\.v1-31 was removed .*run `pulumi destroy` again/);
        assert.ok(w.clock.t - T0 <= 10_000, `stopped ${(w.clock.t - T0) / 1000}s in`);
        assert.deepEqual([...w.target.nodes.keys()], ["w-0"]);
    });

    it("says, where the engine's cancel cannot reach the provider, that a first Ctrl-C waits for the bound", async () => {
        const w = world(Number.MAX_SAFE_INTEGER);
        w.node.addPod("w-0", NS, POD_LABELS);
        w.target.addNode("w-0", MINE);
        const provider = new HollowNodeSyncProvider(w.factory, w.clock, w.log, { signal: new AbortController().signal, hooked: false });
        await provider.create({ ...base, replicas: 1, nodesPerPod: 1, readyTimeoutSeconds: 60, sweepTimeoutSeconds: 30, workloadFingerprint: "f" });
        assert.match(w.logs[0], /at most 90s; a first Ctrl-C cannot reach this wait in this Pulumi version, so it runs to that bound; a second Ctrl-C stops at once/);
    });
});
