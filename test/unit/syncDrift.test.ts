// A preview or up whose inputs did not change still syncs when the target's Nodes are not what up left.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeInfo, PodInfo } from "../../components/kube/clusterApi";
import { syncDrift } from "../../components/reaper/sync";

const node = (name: string, ready = true, kubeletVersion = "v1.37.2"): NodeInfo => ({ name, ready, kubeletVersion });
const pod = (name: string): PodInfo => ({ name, terminating: false });
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
    ];
    for (const [what, nodes, pods, w, drift] of cases) {
        it(`${what}: ${drift ? "drift" : "no drift"}`, () => {
            assert.equal(syncDrift(nodes, pods, w), drift);
        });
    }
});
