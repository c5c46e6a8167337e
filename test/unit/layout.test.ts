// Exactly the Nodes the pods stand behind after a layout change: the layout wait, the sweep and the readiness count.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { STACK_LABEL_KEY } from "../../components/config/settings";
import { expectedPodNodes, layoutProgress } from "../../components/hollow/names";
import { HollowNodeSyncInputs, SYNC_PROVIDER_VERSION } from "../../components/reaper/provider";
import { FakeCluster, syncWorld } from "../harness/fakeCluster";

const MINE = { [STACK_LABEL_KEY]: "kubemark.v1-31" };
const NS = "kubemark-v1-31";
const POD_LABELS = { "app.kubernetes.io/instance": "hollow-node-v1-31" };
const T0 = 1_000_000;

describe("expectedPodNodes", () => {
    const cases: [number, number, (number | undefined)[]][] = [
        [3, 1, [undefined, undefined, undefined]],
        [6, 3, [3, 3]],
        [5, 2, [1, 2, 2]],
        [10, 4, [2, 4, 4]],
        [0, 3, []],
        [2, 5, [2]],
    ];
    for (const [replicas, perPod, pods] of cases) {
        it(`${replicas} at ${perPod} per pod → ${JSON.stringify(pods)}`, () => assert.deepEqual(expectedPodNodes(replicas, perPod), pods));
    }
});

describe("layoutProgress", () => {
    const pod = (name: string, nodes?: number, terminating = false) => ({ name, nodes, terminating });
    const cases: [string, ReturnType<typeof pod>[], (number | undefined)[], boolean, string[]][] = [
        ["the new layout, all running", [pod("w-0", 3), pod("w-1", 3)], [3, 3], true, []],
        ["an old one-per-pod pod not yet rolled", [pod("w-0"), pod("w-1", 3)], [3, 3], false, ["w-0"]],
        ["a pod still terminating", [pod("w-0", 3), pod("w-1", 3), pod("w-2", undefined, true)], [3, 3], false, []],
        ["one pod short", [pod("w-0", 3)], [3, 3], false, []],
        ["back to one per pod, an indexed pod left", [pod("w-0"), pod("w-1", 3)], [undefined, undefined], false, ["w-1"]],
        ["the last pod's rest", [pod("w-0", 2), pod("w-1", 2), pod("w-last-0", 1)], [1, 2, 2], true, []],
        ["no pods for no replicas", [], [], true, []],
    ];
    for (const [what, pods, expected, settled, other] of cases) {
        it(what, () => {
            const p = layoutProgress(pods, expected);
            assert.equal(p.settled, settled);
            assert.deepEqual(p.otherLayout, other);
        });
    }
});


function inputs(over: Partial<HollowNodeSyncInputs> = {}): HollowNodeSyncInputs {
    return {
        providerVersion: SYNC_PROVIDER_VERSION, targetKubeconfig: "target", nodeKubeconfig: "node",
        selector: `${STACK_LABEL_KEY}=kubemark.v1-31`, selectorKey: STACK_LABEL_KEY, namespace: NS,
        podSelector: "app.kubernetes.io/instance=hollow-node-v1-31", replicas: 6, nodesPerPod: 3,
        readyTimeoutSeconds: 60, sweepTimeoutSeconds: 60, workloadFingerprint: "f", ...over,
    };
}

const names = (c: FakeCluster) => [...c.nodes.keys()].sort();

describe("HollowNodeSync after a layout change", () => {
    it("1 → 3 per pod: waits for the old pod of a new pod's name to be rolled, then leaves exactly the six new Nodes", async () => {
        const w = syncWorld();
        // What the StatefulSet shows mid-rollout: w-1 already has the new layout, w-0 is still the old one-node pod.
        for (let i = 0; i < 6; i++) {
            w.target.addNode(`w-${i}`, MINE);
        }
        w.node.addPod("w-0", NS, POD_LABELS);
        w.node.addPod("w-1", NS, POD_LABELS, false, 3);
        for (let k = 0; k < 3; k++) {
            w.target.addNode(`w-1-${k}`, MINE);
        }
        // 12 s in, the rollout reaches w-0: its new pod runs three hollow nodes; the old Node w-0 stays registered.
        w.clock.onSleep = (t) => {
            if (t >= T0 + 12_000 && w.node.pods.get("w-0")?.nodes === undefined) {
                w.node.addPod("w-0", NS, POD_LABELS, false, 3);
                for (let k = 0; k < 3; k++) {
                    w.target.addNode(`w-0-${k}`, MINE);
                }
            }
        };
        const { outs } = await w.provider.create(inputs());
        assert.deepEqual(names(w.target), ["w-0-0", "w-0-1", "w-0-2", "w-1-0", "w-1-1", "w-1-2"]);
        assert.equal(outs.readyNodes, 6);
        assert.equal(outs.registeredNodes, 6);
        assert.equal(outs.sweptNodes, 6, "w-0 … w-5");
        assert.ok(w.logs.some((l) => /waiting for the hollow pods' layout: 2 of 2 pod\(s\) running, 1 of an older layout \(w-0\)/.test(l)), w.logs.join("\n"));
        assert.ok(w.logs.some((l) => /^6\/6 hollow Nodes Ready after/.test(l)), w.logs.join("\n"));
    });

    it("a Node registered after the sweep by no pod's kubelet is neither counted nor left: readiness removes it", async () => {
        const w = syncWorld();
        w.node.addPod("w-0", NS, POD_LABELS, false, 3);
        w.node.addPod("w-1", NS, POD_LABELS, false, 3);
        for (const p of ["w-0", "w-1"]) {
            for (let k = 0; k < 3; k++) {
                w.target.addNode(`${p}-${k}`, MINE, p !== "w-1" || k !== 2);
            }
        }
        // After the sweep looked, a dying old kubelet re-registers w-0 and the last new Node turns Ready late.
        w.clock.onSleep = (t) => {
            if (t === T0 + 2000) {
                w.target.addNode("w-0", MINE);
            }
            if (t >= T0 + 20_000) {
                w.target.nodes.get("w-1-2")!.ready = true;
            }
        };
        w.target.deleteLag = 0;
        const { outs } = await w.provider.create(inputs());
        assert.deepEqual(names(w.target), ["w-0-0", "w-0-1", "w-0-2", "w-1-0", "w-1-1", "w-1-2"]);
        assert.equal(outs.readyNodes, 6);
        assert.ok(w.logs.every((l) => !/^(\d+)\/6/.test(l) || Number(/^(\d+)/.exec(l)![1]) <= 6), w.logs.join("\n"));
    });

    it("never counts more than replicas: an extra Ready Node is named, not counted, while the layout is not reached", async () => {
        const w = syncWorld();
        w.node.addPod("w-0", NS, POD_LABELS);
        w.node.addPod("w-1", NS, POD_LABELS, false, 3);
        for (const n of ["w-0", "w-1-0", "w-1-1", "w-1-2", "w-9"]) {
            w.target.addNode(n, MINE);
        }
        await assert.rejects(w.provider.create(inputs({ sweepTimeoutSeconds: 10, readyTimeoutSeconds: 30 })),
            /only 4\/6 hollow Nodes Ready \(4 registered\)/);
        assert.ok(w.logs.some((l) => /have not reached their layout after 10s \(2 of 2 pod\(s\) running, 1 of an older layout \(w-0\)\)/.test(l)), w.logs.join("\n"));
        assert.deepEqual(names(w.target), ["w-0", "w-1-0", "w-1-1", "w-1-2"], "w-9 swept: no pod stands behind it");
    });

    it("3 → 2 per pod with 5 replicas: two pods of 2 and the last pod's 1, exactly", async () => {
        const w = syncWorld();
        for (const [pod, n] of [["w-0", 2], ["w-1", 2], ["w-last-0", 1]] as const) {
            w.node.addPod(pod, NS, POD_LABELS, false, n);
            for (let k = 0; k < n; k++) {
                w.target.addNode(`${pod}-${k}`, MINE);
            }
        }
        w.target.addNode("w-0-2", MINE);
        w.target.addNode("w-1-2", MINE);
        const { outs } = await w.provider.create(inputs({ replicas: 5, nodesPerPod: 2 }));
        assert.deepEqual(names(w.target), ["w-0-0", "w-0-1", "w-1-0", "w-1-1", "w-last-0-0"]);
        assert.equal(outs.readyNodes, 5);
    });
});
