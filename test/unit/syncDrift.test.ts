// A preview or up whose inputs did not change still syncs when the target's Nodes are not what up left.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo, PodInfo } from "../../components/kube/clusterApi";
import { splitPods, staleNodes, syncDrift } from "../../components/reaper/sync";

const node = (name: string, ready = true, kubeletVersion = "v1.37.2"): NodeInfo => ({ name, ready, kubeletVersion });
const pod = (name: string, workload?: string): PodInfo => ({ name, terminating: false, ...(workload === undefined ? {} : { workload }) });
/** Two pools' parts now: w-a (its -last twin too) and w-b; w-gone was a pool the config no longer has. */
const PARTS = [{ replicas: 1, nodesPerPod: 1, workloadName: "w-a" }, { replicas: 1, nodesPerPod: 1, workloadName: "w-b" }];
type Want = Parameters<typeof syncDrift>[2];
const want: Want = { replicas: 2, kubeletVersion: "v1.37.2", readyTimeoutSeconds: 600 };

describe("syncDrift", () => {
    const cases: [string, NodeInfo[], PodInfo[], Want, boolean][] = [
        ["every Node Ready behind its pod", [node("a"), node("b")], [pod("a"), pod("b")], want, false],
        ["no Node at all: the workload was recreated (up --refresh on a wiped cluster)", [], [pod("a"), pod("b")], want, true],
        ["no pod and no Node", [], [], want, true],
        ["one Node NotReady", [node("a"), node("b", false)], [pod("a"), pod("b")], want, true],
        ["one Node on another release", [node("a"), node("b", true, "v1.36.5")], [pod("a"), pod("b")], want, true],
        ["a Node no pod stands behind", [node("a"), node("b"), node("c")], [pod("a"), pod("b")], want, true],
        ["a Node no pod stands behind, with no readiness wait", [node("a"), node("c")], [pod("a")],
            { ...want, replicas: 1, readyTimeoutSeconds: 0 }, true],
        ["no Node, with no readiness wait asked for", [], [pod("a"), pod("b")], { ...want, readyTimeoutSeconds: 0 }, false],
        ["0 replicas, nothing there", [], [], { ...want, replicas: 0 }, false],
        ["state from before kubeletVersion: any release counts", [node("a", true, "v1.36.5"), node("b")], [pod("a"), pod("b")],
            { replicas: 2, readyTimeoutSeconds: 600 }, false],
        ["a removed pool's Node while its pod still runs: its own reaper's, not drift", [node("w-a-0"), node("w-b-0"), node("w-gone-0")],
            [pod("w-a-0", "w-a"), pod("w-b-0", "w-b"), pod("w-gone-0", "w-gone")], { ...want, parts: PARTS }, false],
        ["a removed pool's Node Ready does not stand in for a current one", [node("w-a-0"), node("w-gone-0")],
            [pod("w-a-0", "w-a"), pod("w-b-0", "w-b"), pod("w-gone-0", "w-gone")], { ...want, parts: PARTS }, true],
    ];
    for (const [what, nodes, pods, w, drift] of cases) {
        it(`${what}: ${drift ? "drift" : "no drift"}`, () => {
            assert.equal(syncDrift(nodes, pods, w), drift);
        });
    }
});

describe("splitPods: the workloads the stack runs now, and those it no longer runs", () => {
    const pods = [pod("w-a-0", "w-a"), pod("w-a-last-0", "w-a-last"), pod("w-gone-0", "w-gone"), pod("w-gone-last-0", "w-gone-last"), pod("old-0")];
    const cases: [string, Parameters<typeof splitPods>[1], string[], string[]][] = [
        ["parts with workload names", PARTS, ["w-a-0", "w-a-last-0", "old-0"], ["w-gone-0", "w-gone-last-0"]],
        ["one workload (no parts): every pod is current", undefined, pods.map((p) => p.name), []],
        ["parts from state before workload names: every pod is current", [{ replicas: 1, nodesPerPod: 1 }], pods.map((p) => p.name), []],
    ];
    for (const [what, parts, current, leaving] of cases) {
        it(what, () => {
            const got = splitPods(pods, parts);
            assert.deepEqual([got.current.map((p) => p.name), got.leaving.map((p) => p.name)], [current, leaving]);
        });
    }

    it("a leaving pod's Nodes are not stale: the sweep leaves them to the part's reaper", () => {
        const { current, leaving } = splitPods(pods, PARTS);
        assert.deepEqual(staleNodes(["w-a-0", "w-gone-0", "w-gone-last-0", "stray"].map((n) => node(n)), current, leaving).map((n) => n.name), ["stray"]);
    });
});
