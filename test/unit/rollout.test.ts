// `up` waits until a changed template has rolled through the pods, and leaves a removed pool's pods and Nodes alone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { INSTANCE_LABEL_KEY } from "../../components/hollow/names";
import { Rollout, rolloutOf, WorkloadObject } from "../../components/kube/rollout";
import { HollowNodeSyncInputs, SYNC_PROVIDER_VERSION } from "../../components/reaper/provider";
import { pendingRollouts } from "../../components/reaper/sync";
import { syncWorld } from "../harness/fakeCluster";

const MINE = { [STACK_LABEL_KEY]: "kubemark.s" };
const NS = "kubemark-s";
const T0 = 1_000_000;
const sts = (generation: number, status: WorkloadObject["status"], replicas = 3): WorkloadObject =>
    ({ metadata: { name: "w", generation }, spec: { replicas }, status });

describe("rolloutOf", () => {
    const cases: [string, Rollout["kind"], WorkloadObject, boolean, RegExp?][] = [
        ["a new StatefulSet its controller has not seen", "StatefulSet", sts(1, undefined), false, /has not seen the latest spec/],
        ["a fresh StatefulSet: one revision", "StatefulSet", sts(1, { observedGeneration: 1, currentRevision: "a", updateRevision: "a", updatedReplicas: 0 }), true],
        ["a template change seen, 1 of 3 pods rolled", "StatefulSet", sts(2, { observedGeneration: 2, currentRevision: "a", updateRevision: "b", updatedReplicas: 1 }),
            false, /^w: 1 of 3 pods on the new template$/],
        ["a template change not yet seen", "StatefulSet", sts(3, { observedGeneration: 2, currentRevision: "b", updateRevision: "b" }), false],
        ["rolled through", "StatefulSet", sts(2, { observedGeneration: 2, currentRevision: "b", updateRevision: "b", updatedReplicas: 3 }), true],
        ["an empty -last twin after a template change", "StatefulSet",
            sts(2, { observedGeneration: 2, currentRevision: "b", updateRevision: "b", updatedReplicas: 0 }, 0), true],
        ["a Deployment with 2 of 3 updated", "Deployment", sts(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 2 }), false, /2 of 3 pods on the new template/],
        ["a Deployment with an old pod still going", "Deployment", sts(2, { observedGeneration: 2, replicas: 4, updatedReplicas: 3 }), false, /1 old pods still going/],
        ["a Deployment rolled through", "Deployment", sts(2, { observedGeneration: 2, replicas: 3, updatedReplicas: 3 }), true],
    ];
    for (const [what, kind, w, done, detail] of cases) {
        it(`${what}: ${done ? "done" : "waits"}`, () => {
            const r = rolloutOf(kind, w);
            assert.equal(r.done, done);
            if (detail) {
                assert.match(r.detail, detail);
            }
        });
    }

    it("waits only for the current workloads and their -last twins", () => {
        const r = (name: string, done = false): Rollout => ({ kind: "StatefulSet", name, done, detail: name });
        const all = [r("a"), r("a-last"), r("b", true), r("gone")];
        assert.deepEqual(pendingRollouts(all, [{ replicas: 1, nodesPerPod: 1, workloadName: "a" }, { replicas: 1, nodesPerPod: 1, workloadName: "b" }])
            .map((x) => x.name), ["a", "a-last"]);
        assert.deepEqual(pendingRollouts(all, undefined).map((x) => x.name), ["a", "a-last", "gone"], "one workload: all of the stack's");
    });
});


const inputs = (over: Partial<HollowNodeSyncInputs>): HollowNodeSyncInputs => ({
    providerVersion: SYNC_PROVIDER_VERSION, targetKubeconfig: "target", nodeKubeconfig: "node",
    selector: `${STACK_LABEL_KEY}=kubemark.s`, selectorKey: STACK_LABEL_KEY, namespace: NS, podSelector: `${STACK_LABEL_KEY}=kubemark.s`,
    replicas: 2, nodesPerPod: 1, readyTimeoutSeconds: 60, sweepTimeoutSeconds: 60, workloadFingerprint: "f", ...over,
});

function pod(w: ReturnType<typeof syncWorld>, name: string, workload: string): void {
    w.node.addPod(name, NS, { ...MINE, [INSTANCE_LABEL_KEY]: workload });
    w.target.addNode(name, MINE);
}

describe("HollowNodeSync and rollouts", () => {
    it("a template change: Nodes stay Ready while pods roll, so up waits for the rollout itself, saying so", async () => {
        const w = syncWorld();
        pod(w, "w-0", "w");
        pod(w, "w-1", "w");
        w.node.rollouts = [{ kind: "StatefulSet", name: "w", done: false, detail: "w: 1 of 2 pods on the new template" }];
        let doneAt = 0;
        w.clock.onSleep = (t) => {
            if (t >= T0 + 12_000 && doneAt === 0) {
                w.node.rollouts = [{ kind: "StatefulSet", name: "w", done: true, detail: "" }];
                doneAt = t;
            }
        };
        const { outs } = await w.provider.create(inputs({}));
        assert.equal(outs.readyNodes, 2);
        assert.ok(doneAt > 0 && w.clock.now() >= doneAt, "returned only after the rollout was done");
        assert.ok(w.logs.some((l) => /waiting for the hollow pods' layout: rolling out w: 1 of 2 pods on the new template/.test(l)), w.logs.join("\n"));
    });

    it("a rollout that outlasts the sweep's bound is said, and up goes on as before", async () => {
        const w = syncWorld();
        pod(w, "w-0", "w");
        pod(w, "w-1", "w");
        w.node.rollouts = [{ kind: "StatefulSet", name: "w", done: false, detail: "w: 0 of 2 pods on the new template" }];
        const { outs } = await w.provider.create(inputs({ sweepTimeoutSeconds: 10 }));
        assert.equal(outs.readyNodes, 2);
        assert.ok(w.logs.some((l) => /have not reached their layout after 10s \(rolling out w: 0 of 2 pods on the new template\)/.test(l)), w.logs.join("\n"));
    });

    it("a removed pool: its pods are neither waited for nor counted, its Nodes not swept (its own reaper's), a stray Node is", async () => {
        const w = syncWorld();
        pod(w, "a-0", "a");
        pod(w, "b-0", "b");
        pod(w, "gone-0", "gone");
        pod(w, "gone-last-0", "gone-last");
        w.target.addNode("stray", MINE);
        w.node.rollouts = [{ kind: "StatefulSet", name: "gone", done: false, detail: "gone: rolling" }];
        const parts = [{ replicas: 1, nodesPerPod: 1, workloadName: "a" }, { replicas: 1, nodesPerPod: 1, workloadName: "b" }];
        const { outs } = await w.provider.create(inputs({ parts }));
        assert.deepEqual([...w.target.nodes.keys()].sort(), ["a-0", "b-0", "gone-0", "gone-last-0"]);
        assert.deepEqual([outs.readyNodes, outs.sweptNodes], [2, 1]);
        assert.ok(w.logs.some((l) => /2 hollow pod\(s\) of workloads this stack no longer runs \(gone-0, gone-last-0\)/.test(l)), w.logs.join("\n"));
        assert.ok(!w.logs.some((l) => /waiting for the hollow pods' layout/.test(l)), "no wait: the layout of a and b was there");
    });
});
